#!/usr/bin/env bash
# Lint the SAM template offline: `cfn-lint` and `sam validate --lint`.
#
# Needs the project virtualenv (.venv) with cfn-lint and aws-sam-cli.
# Works without AWS credentials, region config or network:
#   - the region is given explicitly (us-east-1, overridable with LINT_REGION);
#   - AWS_PROFILE / AWS_DEFAULT_PROFILE are dropped for sam, because a profile
#     name that is not configured makes `sam validate` fail;
#   - SAM_CLI_TELEMETRY=0 keeps sam from trying to send telemetry.
# Fails (non-zero) if either tool reports any error or warning.
#
# Usage: scripts/lint-template.sh [TEMPLATE]   (default: template.yaml)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

TEMPLATE="${1:-template.yaml}"
REGION="${LINT_REGION:-us-east-1}"
VENV="$ROOT/.venv"

log() { printf '[lint-template] %s\n' "$*" >&2; }

for tool in cfn-lint sam; do
  if [[ ! -x "$VENV/bin/$tool" ]]; then
    log "error: $VENV/bin/$tool not found; create the venv first (pip install cfn-lint aws-sam-cli)"
    exit 1
  fi
done
if [[ ! -f "$TEMPLATE" ]]; then
  log "error: template not found: $TEMPLATE"
  exit 1
fi

export PATH="$VENV/bin:$PATH"
export SAM_CLI_TELEMETRY=0

status=0

log "cfn-lint $("$VENV/bin/cfn-lint" --version | awk '{print $2}') on $TEMPLATE (region $REGION)"
if cfn-lint --regions "$REGION" -- "$TEMPLATE"; then
  log "cfn-lint: ok"
else
  log "cfn-lint: FAILED (exit $?)"
  status=1
fi

log "sam validate --lint on $TEMPLATE (region $REGION)"
if env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
    sam validate --lint --region "$REGION" --template "$TEMPLATE" </dev/null; then
  log "sam validate: ok"
else
  log "sam validate: FAILED (exit $?)"
  status=1
fi

exit "$status"
