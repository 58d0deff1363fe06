#!/usr/bin/env bash
# Prints the relay's cold-start figures (see scripts/bench_cold_start.py):
# exec -> URL verification answered, and the first event, with the secret read
# over TLS at init, at the CPU shares of several Lambda memory sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --quiet --bin org-change-relay
scripts/with-moto.sh .venv/bin/python scripts/bench_cold_start.py
