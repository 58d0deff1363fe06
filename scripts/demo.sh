#!/usr/bin/env bash
# The local demo: a real SQS server (moto), the relay under cargo-lambda's Lambda
# emulator, a fresh event of every type triggered by the simulator the way the
# platforms send it (encrypted, and signed for Feishu), and the messages read back
# from the queue.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec scripts/with-moto.sh scripts/demo-run.sh
