#!/usr/bin/env bash
# Runs a command next to a fresh moto SQS server (moto's server mode, from PyPI) on
# a free loopback port, and stops the server afterwards. The command sees:
#   MOTO_ENDPOINT   the server's URL, e.g. http://127.0.0.1:41234
#   MOTO_SERVER     the moto_server executable (tests start their own to stop it)
#   AWS_*           a region and dummy credentials, which moto accepts
set -euo pipefail
cd "$(dirname "$0")/.."

python=.venv/bin/python
. scripts/serve.sh
port=$(free_port)
log=$(mktemp -t moto.XXXXXX)
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT

wait_until_up "http://127.0.0.1:$port/moto-api/" 20 "with-moto: moto did not start:" "$log"

export MOTO_ENDPOINT="http://127.0.0.1:$port"
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
run_child "$@"
