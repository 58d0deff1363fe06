#!/usr/bin/env bash
# Every check: formatting, lints, unit tests, the integration tests against a real
# (moto) SQS server through the real lambda_http adapter, the template deployed to a
# local AWS (MiniStack), and fuzz/'s own checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy --workspace --all-targets --all-features -- -D warnings (on a fresh clone it compiles everything: 2-4 min)"
cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
echo "==> cfn-lint and sam validate --lint on template.yaml (about 30 s)"
scripts/lint-template.sh template.yaml
echo "==> the local open API server's self-test (tests/test_fake_open_api.py, about 3 s)"
python3 tests/test_fake_open_api.py
echo "==> cargo test (unit and integration, next to a moto SQS server and the local open API; a fresh clone compiles the tests first: 2-4 min, then about 1.5 min of tests)"
# tests/enricher.rs needs both servers: the relay's queues on moto, the platform's API on
# tests/fake_open_api.py. The other tests ignore the second.
scripts/with-moto.sh scripts/with-open-api.sh cargo test --workspace --all-targets --features integration
# The template as a user deploys it, on a local AWS (MiniStack): the function is the
# x86_64 debug builds the step above made, so nothing more is compiled (~1 min).
echo "==> the deployed stack: template.yaml on MiniStack, driven by org-change-sim"
scripts/with-ministack.sh .venv/bin/python tests/deployed_stack.py
echo "==> cargo test --workspace --doc (the compile_fail proofs among them)"
cargo test --quiet --workspace --doc
# Stable rustdoc only checks that a compile_fail example fails to compile; nightly's
# also checks the error code it names (E0451: private fields), so that an example
# failing for another reason (a typo, a missing field) cannot pass for the proof.
echo "==> cargo +nightly test -p org-change-core --doc (the compile_fail proofs' error codes)"
scripts/nightly.sh
cargo +nightly test --quiet -p org-change-core --doc
# fuzz/ is a workspace of its own (cargo-fuzz wants it so): check it too, without the
# fuzzer (stable Rust), so that a change to the core that breaks a fuzz target or one
# of its invariants shows here and not only in `make fuzz`.
echo "==> fuzz/: fmt, clippy, and its invariants on the seeds and the regression inputs (a workspace of its own: 1-2 min the first time)"
(
  cd fuzz
  cargo fmt --check
  cargo clippy --quiet --no-default-features --all-targets -- -D warnings
  cargo test --quiet --no-default-features --lib
)
echo "==> relative links in README.md and docs/, make help, no import circles"
scripts/check-links.py
scripts/check-make-help.sh
scripts/check-circles.py
echo "==> make test: all passed"
