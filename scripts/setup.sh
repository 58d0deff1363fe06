#!/usr/bin/env bash
# Installs everything the demo and the tests need into this checkout: a Python
# virtualenv in .venv (moto's SQS server, cargo-lambda, zig, cfn-lint, the SAM CLI; MiniStack
# in .venv/ministack) and the Rust components. Safe to run again: it installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo is not installed (https://rustup.rs)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 is not installed" >&2; exit 1; }

if command -v rustup >/dev/null; then
  rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing moto, cargo-lambda, zig, cfn-lint and the SAM CLI into .venv (once: about 1 min, 0.85 GB)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# MiniStack gets a virtualenv of its own (requirements-ministack.txt says why).
if [ ! -x .venv/ministack/bin/python ]; then
  python3 -m venv .venv/ministack
fi
stamp=.venv/ministack/.requirements.sha256
want=$(sha256sum requirements-ministack.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing MiniStack, a local AWS, into .venv/ministack (once: about 30 s)"
  .venv/ministack/bin/pip install --quiet --disable-pip-version-check -r requirements-ministack.txt
  echo "$want" > "$stamp"
fi
