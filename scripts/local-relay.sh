# Sourced by scripts/demo-run.sh and scripts/relay-run.sh: the demo's secrets, and the
# relay under cargo-lambda's emulator next to the moto server that with-moto.sh starts.

if [ -z "${MOTO_ENDPOINT:-}" ]; then
  echo "$(basename "$0") needs the local SQS server that scripts/with-moto.sh starts: run \`make demo\` or \`make relay\` instead" >&2
  exit 2
fi

# The demo's secrets. ENDPOINTS has a named endpoint: a second Feishu app (Lark,
# abroad) with its own token and key, at …/feishu/lark-global. The simulator reads
# the same variables. `keep` (make relay) leaves any the caller set: their own test.
use_demo_secrets() {
  local keep=${1:-} pair name
  for pair in FEISHU_VERIFICATION_TOKEN=demo-feishu-token FEISHU_ENCRYPT_KEY=demo-feishu-key \
    FEILIAN_VERIFICATION_TOKEN=demo-feilian-token FEILIAN_ENCRYPT_KEY=demo-feilian-key \
    'ENDPOINTS={"feishu/lark-global": {"verification_token": "demo-lark-token", "encrypt_key": "demo-lark-key"}}'; do
    name=${pair%%=*}
    if [ -z "$keep" ] || [ -z "${!name+set}" ]; then
      export "$pair"
    fi
  done
}

sim=target/debug/org-change-sim

build_local() {
  echo "==> building the relay and the simulator (a fresh clone: 2 to 4 min on 2 cores; then seconds)"
  cargo build --bins
}

# start_relay PORT QUEUE_URL LOG: runs the relay under `cargo lambda watch` in the
# background, as its own process group, and sets watch_pid. MAX_REQUEST_AGE_SECONDS
# passes through when set.
start_relay() {
  local port=$1 queue_url=$2 log=$3
  mkdir -p .demo
  # In a file: --env-var splits a value at its commas (ENDPOINTS is JSON) and refuses an
  # empty one, which the relay reads as unset (a source disabled, no Encrypt Key).
  : >.demo/relay.env
  local var
  for var in FEISHU_VERIFICATION_TOKEN FEISHU_ENCRYPT_KEY FEILIAN_VERIFICATION_TOKEN \
    FEILIAN_ENCRYPT_KEY ENDPOINTS MAX_REQUEST_AGE_SECONDS; do
    if [ -n "${!var:-}" ]; then
      printf "%s='%s'\n" "$var" "${!var}" >>.demo/relay.env
    fi
  done
  setsid .venv/bin/cargo-lambda lambda watch --bin org-change-relay --ignore-changes -A 127.0.0.1 -P "$port" \
    --env-var "QUEUE_URL=$queue_url" \
    --env-var "AWS_ENDPOINT_URL_SQS=$MOTO_ENDPOINT" \
    --env-var "AWS_REGION=$AWS_REGION,AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" \
    --env-file .demo/relay.env \
    >"$log" 2>&1 &
  watch_pid=$!
  trap 'kill -- -"$watch_pid" 2>/dev/null || true; wait "$watch_pid" 2>/dev/null || true' EXIT
}

# wait_for_relay URL LOG: sends the challenge until the relay answers it (the emulator
# starts the function on the first request); fails with the relay's log if it exits.
wait_for_relay() {
  local url=$1 log=$2
  echo "==> waiting for the relay to answer the URL verification (a few seconds)"
  for _ in $(seq 240); do
    if "$sim" challenge --url "$url" >.demo/challenge.out 2>&1; then
      cat .demo/challenge.out
      return 0
    fi
    kill -0 "$watch_pid" 2>/dev/null || { echo "cargo lambda watch exited; its log ($log):" >&2; cat "$log" >&2; exit 1; }
    if grep -q "configuration error" "$log"; then
      echo "the relay cannot start; its log ($log):" >&2; cat "$log" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "the relay did not answer within 2 minutes; its log ($log):" >&2
  cat "$log" >&2
  exit 1
}
