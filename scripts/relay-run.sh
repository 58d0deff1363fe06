#!/usr/bin/env bash
# The body of scripts/relay.sh (`make relay`), run next to a moto server (with-moto.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/local-relay.sh
use_demo_secrets keep

port=${RELAY_PORT:-9000}
if ! .venv/bin/python -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null; then
  echo "make relay: port $port is in use: stop what holds it, or run RELAY_PORT=<another port> make relay" >&2
  exit 2
fi

build_local
queue_url=$(.venv/bin/python scripts/sqs.py create org-changes)
echo "==> SQS (moto) at $MOTO_ENDPOINT, queue $queue_url"
echo "==> starting the relay under cargo lambda watch on port $port (log: .demo/relay.log)"
start_relay "$port" "$queue_url" .demo/relay.log
base="http://127.0.0.1:$port/lambda-url/org-change-relay"
# The first default endpoint that is enabled answers the challenge.
probe=feishu
[ -n "${FEISHU_VERIFICATION_TOKEN:-}" ] || probe=feilian
wait_for_relay "$base/$probe" .demo/relay.log

# What another shell needs: the simulator reads RELAY_URL and the secrets, the
# consumer QUEUE_URL and the AWS variables.
cat >.demo/env <<ENV
export RELAY_URL=$base/$probe
export QUEUE_URL=$queue_url
export AWS_ENDPOINT_URL_SQS=$MOTO_ENDPOINT AWS_REGION=$AWS_REGION AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export FEISHU_VERIFICATION_TOKEN=$FEISHU_VERIFICATION_TOKEN FEISHU_ENCRYPT_KEY=$FEISHU_ENCRYPT_KEY
export FEILIAN_VERIFICATION_TOKEN=$FEILIAN_VERIFICATION_TOKEN FEILIAN_ENCRYPT_KEY=$FEILIAN_ENCRYPT_KEY
export ENDPOINTS='$ENDPOINTS'
ENV

cat <<TEXT

==> the relay is running
URLs:   $base/feishu
        $base/feilian
        $base/feishu/lark-global   (a named endpoint)
queue:  $queue_url  (SQS at $MOTO_ENDPOINT)
window: MAX_REQUEST_AGE_SECONDS=${MAX_REQUEST_AGE_SECONDS:-86400 (the default)}

In another shell, from this folder (.demo/env holds the variables above and the secrets):

  . .demo/env
  cargo run --bin org-change-sim -- trigger corehr.department.updated_v2   # to \$RELAY_URL
  cargo run --bin org-change-sim -- trigger --url $base/feilian all
  cargo run --example consumer                                             # reads the queue; Ctrl-C stops it

Ctrl-C here stops the relay and the SQS server. The relay's log follows.

TEXT
tail -n 0 -f --pid="$watch_pid" .demo/relay.log
