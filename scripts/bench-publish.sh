#!/usr/bin/env bash
# Prints how long the relay takes to answer one Feilian request of 1,000 changes,
# publishing its SendMessageBatch calls one at a time and ten at a time, against moto
# behind a proxy that delays every call by 20-50 ms (scripts/latency_proxy.py), and
# checks that all 1,000 messages are on the queue (examples/bench_publish.rs).
# Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${MOTO_ENDPOINT:-}" ]; then
  scripts/setup.sh
  cargo build --quiet --example bench_publish
  exec scripts/with-moto.sh "$0"
fi

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python scripts/latency_proxy.py --port "$port" --target "$MOTO_ENDPOINT" \
  --delay-ms 20-50 --max-seconds 900 >/dev/null &
proxy=$!
trap 'kill "$proxy" 2>/dev/null || true; wait "$proxy" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# The relay's metrics lines (one per request, on stdout) are left out.
BENCH_SQS_ENDPOINT="http://127.0.0.1:$port" target/debug/examples/bench_publish | grep -v '^{"_aws"'
