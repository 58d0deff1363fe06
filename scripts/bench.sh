#!/usr/bin/env bash
# make bench: the protocol core against the floor (benches/core.rs, criterion). After
# criterion's report it prints, for 1,000 Feishu corehr.department.updated_v2 requests
# and for Feilian department.v1.update requests of 10 changes (per message): the median
# per request of (a) the floor, (b) receive(), (c) receive() plus the SQS entries, the
# ratios (b)/(a) and (c)/(a), and the allocations per request.
#
#   make bench                  # 50 samples of 5 s per variant, about 2 minutes
#   BENCH_QUICK=1 make bench    # a few short samples (CI): the figures are only indicative
# Extra arguments go to criterion, e.g. `scripts/bench.sh feishu` runs that group only.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench core -- "$@"
