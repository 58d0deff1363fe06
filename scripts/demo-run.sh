#!/usr/bin/env bash
# The body of scripts/demo.sh (`make demo`), run next to a moto server (see
# with-moto.sh); run directly, it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/local-relay.sh
use_demo_secrets
mkdir -p .demo

build_local
queue_url=$(.venv/bin/python scripts/sqs.py create org-changes-demo)
echo "==> SQS (moto) at $MOTO_ENDPOINT, queue $queue_url"

port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "==> starting the relay under cargo lambda watch on port $port (log: .demo/relay.log)"
start_relay "$port" "$queue_url" .demo/relay.log
base="http://127.0.0.1:$port/lambda-url/org-change-relay"
wait_for_relay "$base/feishu" .demo/relay.log
"$sim" challenge --url "$base/feilian"
"$sim" challenge --url "$base/feishu/lark-global"

echo "==> the event types the simulator can trigger"
"$sim" trigger --list

# Each step that sends events: its number and what it does, and the event ids it
# sent, so that every message read back names the step it came from.
: >.demo/steps.tsv
step=0
run_step() {
  local what=$1
  shift
  step=$((step + 1))
  step_name="step $step: $what"
  echo "==> $step_name"
  "$sim" "$@" | tee ".demo/step-$step.out"
  grep -o 'event_id=[^ ]*' ".demo/step-$step.out" | cut -d= -f2 |
    sed "s|^|$step_name\t|" >>.demo/steps.tsv || true
}

run_step "a fresh event of every Feishu type, encrypted and signed, to /feishu" \
  trigger --url "$base/feishu" all
run_step "a fresh event of every Feilian type, encrypted, to /feilian" \
  trigger --url "$base/feilian" all
run_step "the second Feishu app at /feishu/lark-global (its own token and key, from ENDPOINTS)" \
  trigger --url "$base/feishu/lark-global" corehr.department.updated_v2 contact.department.updated_v3
files=(events/feilian/*.json)
run_step "the Feilian sample files as they are (send: token replaced, header.create_time set to now)" \
  send --url "$base/feilian" "${files[@]}"
# `send` prints file names, not event ids: take them from the files.
.venv/bin/python -c 'import json, sys; [print(json.load(open(f))["header"]["event_id"]) for f in sys.argv[1:]]' "${files[@]}" |
  sed "s|^|$step_name\t|" >>.demo/steps.tsv

echo "==> the normalized messages on the queue, by the step that sent them"
.venv/bin/python scripts/sqs.py drain "$queue_url" .demo/steps.tsv

cat <<'TEXT'

==> next
- A relay of your own to drive by hand (the simulator, the consumer): make relay
- Deploy to AWS (sam build --beta-features && sam deploy --guided): README, "Deploy"
- Point Feishu or Feilian at it: README, "Configure the consoles"
TEXT
