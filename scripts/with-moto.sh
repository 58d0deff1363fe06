#!/usr/bin/env bash
# Runs a command next to a fresh moto SQS server (moto's server mode, from PyPI) on
# a free loopback port, and stops the server afterwards. The command sees:
#   MOTO_ENDPOINT   the server's URL, e.g. http://127.0.0.1:41234
#   MOTO_SERVER     the moto_server executable (tests start their own to stop it)
#   AWS_*           a region and dummy credentials, which moto accepts
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
log=$(mktemp -t moto.XXXXXX)
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT

.venv/bin/python - "$port" <<'PY' || { echo "with-moto: moto did not start:" >&2; cat "$log" >&2; exit 1; }
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/"
for _ in range(200):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY

export MOTO_ENDPOINT="http://127.0.0.1:$port"
export MOTO_SERVER="$PWD/.venv/bin/moto_server"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
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
