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

python=.venv/bin/python
. scripts/serve.sh
port=$(free_port)
endpoint="http://127.0.0.1:$port"
log=$(mktemp -t ministack.XXXXXX)
data=$(mktemp -d -t ministack-data.XXXXXX)
env -u AUTH GATEWAY_PORT="$port" BIND_HOST=127.0.0.1 AWS_ENDPOINT_URL="$endpoint" \
  S3_DATA_DIR="$data/s3" TMPDIR="$data" LOG_LEVEL=WARNING \
  .venv/ministack/bin/ministack >"$log" 2>&1 &
ministack_pid=$!
trap 'kill "$ministack_pid" 2>/dev/null || true; wait "$ministack_pid" 2>/dev/null || true; rm -rf "$log" "$data"' EXIT

wait_until_up "$endpoint/_ministack/health" 30 "with-ministack: MiniStack did not start:" "$log"

export MINISTACK_ENDPOINT="$endpoint" MINISTACK_LOG="$log"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
"$@"
