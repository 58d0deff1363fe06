#!/usr/bin/env bash
# Every check: formatting, lints, unit tests, and the integration tests against a
# real (moto) SQS server through the real lambda_http adapter.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo "==> cargo fmt --check"
cargo fmt --check
echo "==> cargo clippy --workspace --all-targets --all-features -- -D warnings"
cargo clippy --quiet --workspace --all-targets --all-features -- -D warnings
echo "==> cfn-lint and sam validate --lint on template.yaml"
scripts/lint-template.sh template.yaml
echo "==> cargo test (unit and integration, next to a moto SQS server)"
scripts/with-moto.sh cargo test --workspace --all-targets --features integration
echo "==> cargo test --workspace --doc (the compile_fail proofs among them)"
cargo test --quiet --workspace --doc
