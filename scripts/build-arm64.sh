#!/usr/bin/env bash
# Build the org-change-relay Lambda for arm64 (Graviton, provided.al2023) the way a
# deployment does, `sam build --beta-features` on template.yaml (SAM runs
# `cargo lambda build --release --arm64`; its Rust support is a beta feature), then
# package the same binary as a zip with cargo lambda and print its size.
#
# Cross-compiles with cargo-lambda + zig, both from the project virtualenv
# (.venv, created by another script: pip packages cargo-lambda and ziglang).
# cargo-lambda finds zig via `python3 -m ziglang`, so .venv/bin must come
# first on PATH (or set CARGO_ZIGBUILD_ZIG_PATH=.venv/bin/python-zig).
#
# aws-lc-sys (the rustls crypto backend pulled in by the AWS SDK) builds with
# its "CC builder" and pregenerated bindings, i.e. through `zig cc`: no cmake,
# clang, nasm or aarch64 cross-gcc is needed. The only system packages used are
# the host C toolchain (gcc, libc6-dev) that links build scripts.
#
# Idempotent: installs the rustup target / apt packages only when missing.
# Extra arguments are passed through to `sam build`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BIN=org-change-relay
TARGET=aarch64-unknown-linux-gnu
VENV="$ROOT/.venv"
LAMBDA_DIR="$ROOT/target/lambda"
APT_PACKAGES=(gcc libc6-dev)

log() { printf '[build-arm64] %s\n' "$*" >&2; }

# --- apt packages (only if missing) ---------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi

# --- rust target ------------------------------------------------------------
if ! rustup target list --installed | grep -qx "$TARGET"; then
  log "installing rustup target $TARGET"
  if ! rustup target add "$TARGET"; then
    # Exit 3 (not 1) so that CI can tell "the standard library for arm64 could not be
    # downloaded from static.rust-lang.org" from a failed build.
    log "error: could not install the rustup target $TARGET"
    exit 3
  fi
fi

# --- virtualenv tools -------------------------------------------------------
if [[ ! -x "$VENV/bin/cargo-lambda" ]]; then
  log "error: $VENV/bin/cargo-lambda not found; create the venv first (pip install cargo-lambda ziglang)"
  exit 1
fi
export PATH="$VENV/bin:$PATH"
if ! zig_version="$(python3 -m ziglang version 2>/dev/null)"; then
  log "error: zig not available via 'python3 -m ziglang' in $VENV (pip install ziglang)"
  exit 1
fi
log "cargo-lambda: $(cargo lambda --version 2>/dev/null || echo '?'); zig: $zig_version"

# --- build ------------------------------------------------------------------
export SAM_CLI_TELEMETRY=0
log "sam build: a release build with LTO for arm64, about 10 min the first time on 2 cores (silent while it compiles), then seconds"
sam build --beta-features --build-dir "$ROOT/target/sam-build" "$@"
test -x "$ROOT/target/sam-build/RelayFunction/bootstrap" || { log "error: sam build produced no bootstrap"; exit 1; }
# The same build (nothing is recompiled), zipped as Lambda takes it.
cargo lambda build --release --arm64 --bin "$BIN" --output-format zip --lambda-dir "$LAMBDA_DIR"

ZIP="$LAMBDA_DIR/$BIN/bootstrap.zip"
if [[ ! -f "$ZIP" ]]; then
  log "error: expected $ZIP was not produced"
  exit 1
fi
bytes=$(stat -c %s "$ZIP")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')
echo "zip: $ZIP"
echo "size: $bytes bytes ($mib MiB)"
