#!/usr/bin/env bash
# Installs Rust's nightly toolchain if it is missing (minimal profile). Two things need
# it: cargo-fuzz (`make fuzz`, for the sanitizer flags) and the error codes of the
# core's compile_fail doctests, which only nightly rustdoc checks (`make test`).
set -euo pipefail
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "==> rustup toolchain install nightly --profile minimal"
  rustup toolchain install nightly --profile minimal
fi
