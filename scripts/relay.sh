#!/usr/bin/env bash
# `make relay`: a relay of your own on this machine, to drive by hand. A local SQS
# server (moto), a queue, and the relay under cargo-lambda's emulator with the demo's
# secrets; prints the URL and the variables for the simulator and the consumer, then
# the relay's log until Ctrl-C, which stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec scripts/with-moto.sh scripts/relay-run.sh
