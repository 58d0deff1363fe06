#!/usr/bin/env bash
# Load test (scripts/load.py): LOAD_EVENTS webhooks (default 10,000), each sent twice,
# by concurrent clients through several relay processes under cargo-lambda's Runtime
# API emulator, to a standard and a FIFO queue on MiniStack (LOAD_SQS=moto: on moto);
# then every acknowledged message is looked for on its queue. Prints figures; fails on
# a lost acknowledgement.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet --bin org-change-relay
exec .venv/bin/python scripts/load.py
