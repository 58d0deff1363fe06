# Sourced by the with-*.sh scripts, which start a local server for one command. Each sets
# $python (the interpreter) before sourcing.

# A free loopback port.
free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_until_up URL SECONDS MESSAGE LOG: returns once URL answers; else prints MESSAGE and
# the server's LOG, and exits 1.
wait_until_up() {
  "$python" - "$1" "$2" <<'PY' || { echo "$3" >&2; cat "$4" >&2; exit 1; }
import sys, time, urllib.request
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
}

# run_child COMMAND...: runs the command as a child that is told when this script is
# stopped (Ctrl-C, or a plain kill of make), so that it stops what it started before the
# server goes; exits with its status.
run_child() {
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
}
