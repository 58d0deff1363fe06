#!/usr/bin/env bash
# Runs a command next to a fresh MiniStack (a local AWS without Docker, from PyPI, in
# .venv/ministack) on a free loopback port, and stops it afterwards. The command sees:
#   MINISTACK_ENDPOINT  its URL, e.g. http://127.0.0.1:41234
#   AWS_*               a region and dummy credentials, which MiniStack accepts
# Emulator gap: MiniStack runs a Lambda function as a local process, whose SDK reaches
# MiniStack only if AWS_ENDPOINT_URL is in MiniStack's own environment (set below).
# Emulator gap: IAM is not enforced (AUTH unset): MiniStack authorizes SendMessageBatch
# by an action name AWS does not use, so the template's least-privilege policy would fail.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
endpoint="http://127.0.0.1:$port"
log=$(mktemp -t ministack.XXXXXX)
data=$(mktemp -d -t ministack-data.XXXXXX)
env -u AUTH GATEWAY_PORT="$port" BIND_HOST=127.0.0.1 AWS_ENDPOINT_URL="$endpoint" \
  S3_DATA_DIR="$data/s3" TMPDIR="$data" LOG_LEVEL=WARNING \
  .venv/ministack/bin/ministack >"$log" 2>&1 &
ministack_pid=$!
trap 'kill "$ministack_pid" 2>/dev/null || true; wait "$ministack_pid" 2>/dev/null || true; rm -rf "$log" "$data"' EXIT

.venv/bin/python - "$endpoint" <<'PY' || { echo "with-ministack: MiniStack did not start:" >&2; cat "$log" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + "/_ministack/health", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY

export MINISTACK_ENDPOINT="$endpoint" MINISTACK_LOG="$log"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$@"
