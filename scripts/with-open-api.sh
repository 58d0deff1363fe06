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
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
log=$(mktemp -t open-api.XXXXXX)
"$python" tests/fake_open_api.py --host "$bind" --port "$port" >"$log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; rm -f "$log"' EXIT

"$python" - "$port" <<'PY' || { echo "with-open-api: the server did not start:" >&2; cat "$log" >&2; exit 1; }
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/_control/health"
for _ in range(200):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.05)
sys.exit(1)
PY

export OPEN_API_URL="http://127.0.0.1:$port"
# The command runs as a child that is told when this script is stopped (Ctrl-C, or a
# plain kill of make): it then stops what it started, before the server goes.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM HUP
status=0
wait "$child" || status=$?
while kill -0 "$child" 2>/dev/null; do
  status=0
  wait "$child" || status=$?
done
exit "$status"
