#!/usr/bin/env bash
# make bench: the protocol core against the floor (benches/core.rs, criterion). After
# criterion's report it runs the three variants in turn, 300 rounds, and prints, for
# 1,000 Feishu corehr.department.updated_v2 requests (per request) and for 100 Feilian
# department.v1.update requests of 10 changes (per message): the median time of (a) the
# floor, (b) receive(), (c) receive() plus the SQS entries, the median of each one's
# per-round ratio to the floor, and the allocations.
#
#   make bench                  # 50 samples of 5 s per variant and 300 rounds: about a minute once built
#   BENCH_QUICK=1 make bench    # a few short samples and 20 rounds: indicative figures only
# Extra arguments go to criterion, e.g. `scripts/bench.sh feishu` runs that criterion
# group only (the rounds and the table cover both sets still).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench core -- "$@"
