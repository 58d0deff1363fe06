#!/usr/bin/env bash
# make fuzz: every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 300), then
# one line per target with libFuzzer's final figures: executions, coverage (cov: edges,
# ft: features), corpus size, crashes. Any crash fails the command (after every
# target has run); the input that crashed is in fuzz/artifacts/<target>/.
#
# Installs what is missing: the nightly toolchain (cargo-fuzz needs it for the
# sanitizer flags) and cargo-fuzz. The seed corpus is written from events/ first
# (fuzz/src/bin/seeds.rs); fuzz/corpus/<target> keeps what a run adds, so later runs
# start from there (delete it to start from the seeds alone).
#
#   FUZZ_SECONDS=60 make fuzz                 # CI's smoke run
#   FUZZ_TARGETS="receive" make fuzz          # some targets only
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-300}
read -r -a targets <<<"${FUZZ_TARGETS:-receive cipher timestamp}"

scripts/nightly.sh
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> cargo install cargo-fuzz --locked"
  cargo install cargo-fuzz --locked
fi

echo "==> seed corpus from events/ (fuzz/src/bin/seeds.rs)"
(cd fuzz && cargo run --quiet --no-default-features --bin seeds -- corpus)
echo "==> the seeds pass every invariant (cargo test in fuzz/)"
(cd fuzz && cargo test --quiet --no-default-features --lib)

for target in "${targets[@]}"; do
  echo "==> cargo +nightly fuzz build $target"
  cargo +nightly fuzz build "$target"
done

mkdir -p fuzz/artifacts
summary=()
failed=0
for target in "${targets[@]}"; do
  log="fuzz/artifacts/$target.log"
  echo "==> cargo +nightly fuzz run $target -- -max_total_time=$seconds (log: $log)"
  status=0
  cargo +nightly fuzz run "$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1 || status=$?
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  per_second=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  # The last status line: "#N DONE cov: C ft: F corp: K/..." (or the last pulse/NEW).
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  # libFuzzer stops at the first crash (a panic, a sanitizer report, a leak, a timeout).
  crashes=$(grep -c '^SUMMARY: ' "$log" || true)
  if [[ $status -ne 0 ]]; then
    failed=1
    crashes=$(( crashes > 0 ? crashes : 1 ))
    echo "!! $target failed (exit $status); the end of its log:"
    tail -40 "$log"
    ls -1 "fuzz/artifacts/$target" 2>/dev/null | sed 's/^/   artifact: /' || true
  fi
  summary+=("$(printf '%-10s %7ss %12s %8s %6s %6s %7s %8s' "$target" "$seconds" \
    "${executions:-?}" "${per_second:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$crashes")")
done

echo
echo "fuzz summary ($(date -u +%FT%TZ), $(cargo fuzz --version), $(rustc +nightly --version))"
printf '%-10s %8s %12s %8s %6s %6s %7s %8s\n' target time executions exec/s cov ft corpus crashes
printf '%s\n' "${summary[@]}"
exit "$failed"
