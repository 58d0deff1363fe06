#!/usr/bin/env bash
# Load test (scripts/load.py): LOAD_EVENTS webhooks (default 10,000), each sent twice,
# by concurrent clients through several relay processes under cargo-lambda's Runtime
# API emulator, to a standard and a FIFO queue on MiniStack (LOAD_SQS=moto: on moto);
# then every acknowledged message is looked for on its queue. Prints figures; fails on
# a lost acknowledgement.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> building the release relay (the first time several minutes: LTO over the AWS SDK; then seconds)"
cargo build --release --quiet --bin org-change-relay
echo "==> load: ${LOAD_EVENTS:-10000} events, each sent twice (10,000: about 4 min on 2 cores; progress every 15 s)"
exec .venv/bin/python scripts/load.py
