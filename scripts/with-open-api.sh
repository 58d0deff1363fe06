#!/usr/bin/env bash
# Runs a command next to a fresh local server of the Feishu/Lark open API
# (tests/fake_open_api.py, Python standard library only) on a free loopback port, and
# stops the server afterwards. The command sees:
#   OPEN_API_URL   the server's base URL, e.g. http://127.0.0.1:41234
# OPEN_API_BIND (default 127.0.0.1) sets the address it listens on.
set -euo pipefail
cd "$(dirname "$0")/.."

python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python
bind=${OPEN_API_BIND:-127.0.0.1}
. scripts/serve.sh
port=$(free_port)
log=$(mktemp -t open-api.XXXXXX)
"$python" tests/fake_open_api.py --host "$bind" --port "$port" >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$log"' EXIT

wait_until_up "http://127.0.0.1:$port/_control/health" 10 "with-open-api: the server did not start:" "$log"

export OPEN_API_URL="http://127.0.0.1:$port"
run_child "$@"
