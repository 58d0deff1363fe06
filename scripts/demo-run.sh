#!/usr/bin/env bash
# The body of scripts/demo.sh, run next to a moto server (see with-moto.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .demo

export FEISHU_VERIFICATION_TOKEN=demo-feishu-token FEISHU_ENCRYPT_KEY=demo-feishu-key
export FEILIAN_VERIFICATION_TOKEN=demo-feilian-token FEILIAN_ENCRYPT_KEY=demo-feilian-key
# A named endpoint: a second Feishu app (Lark, abroad) with its own token and key, at
# …/feishu/lark-global. The simulator reads its secrets from the same variable.
export ENDPOINTS='{"feishu/lark-global": {"verification_token": "demo-lark-token", "encrypt_key": "demo-lark-key"}}'

echo "==> building the relay and the simulator"
cargo build --quiet --bins

queue_url=$(.venv/bin/python scripts/sqs.py create org-changes-demo)
# ENDPOINTS is JSON (commas), which --env-var would split: it goes in a file.
printf "ENDPOINTS='%s'\n" "$ENDPOINTS" >.demo/relay.env
echo "==> SQS (moto) at $MOTO_ENDPOINT, queue $queue_url"

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "==> starting the relay under cargo lambda watch on port $port (log: .demo/relay.log)"
setsid .venv/bin/cargo-lambda lambda watch --bin org-change-relay --ignore-changes -A 127.0.0.1 -P "$port" \
  --env-var "QUEUE_URL=$queue_url" \
  --env-var "AWS_ENDPOINT_URL_SQS=$MOTO_ENDPOINT" \
  --env-var "AWS_REGION=$AWS_REGION,AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" \
  --env-var "FEISHU_VERIFICATION_TOKEN=$FEISHU_VERIFICATION_TOKEN,FEISHU_ENCRYPT_KEY=$FEISHU_ENCRYPT_KEY" \
  --env-var "FEILIAN_VERIFICATION_TOKEN=$FEILIAN_VERIFICATION_TOKEN,FEILIAN_ENCRYPT_KEY=$FEILIAN_ENCRYPT_KEY" \
  --env-file .demo/relay.env \
  >.demo/relay.log 2>&1 &
watch_pid=$!
trap 'kill -- -"$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true' EXIT

base="http://127.0.0.1:$port/lambda-url/org-change-relay"
sim=target/debug/org-change-sim

echo "==> waiting for the function to answer the Feishu URL verification"
for _ in $(seq 240); do
  if "$sim" challenge --url "$base/feishu" >.demo/challenge.out 2>&1; then break; fi
  kill -0 "$watch_pid" 2>/dev/null || { echo "cargo lambda watch exited:" >&2; cat .demo/relay.log >&2; exit 1; }
  sleep 0.5
done
cat .demo/challenge.out
"$sim" challenge --url "$base/feilian"
"$sim" challenge --url "$base/feishu/lark-global"

echo "==> the event types the simulator can trigger"
"$sim" trigger --list

echo "==> triggering a fresh event of every type, encrypted (and signed for Feishu)"
"$sim" trigger --url "$base/feishu" all
"$sim" trigger --url "$base/feilian" all

echo "==> a named endpoint: the second Feishu app at /feishu/lark-global (its own token and key, from ENDPOINTS)"
"$sim" trigger --url "$base/feishu/lark-global" corehr.department.updated_v2 contact.department.updated_v3

echo "==> sending the Feilian sample files as they are (send: any JSON body, its token replaced and header.create_time set to now)"
"$sim" send --url "$base/feilian" events/feilian/*.json

echo "==> the normalized messages on the queue"
.venv/bin/python scripts/sqs.py drain "$queue_url"
