#!/usr/bin/env bash
# Fails unless `make help` lists every target of the Makefile with its description.
set -euo pipefail
cd "$(dirname "$0")/.."
help=$(make --no-print-directory help)
status=0
for target in $(grep -E '^[a-z0-9-]+:' Makefile | cut -d: -f1); do
  if ! grep -qE "^make $target +[^ ]" <<<"$help"; then
    echo "check-make-help: \`make help\` does not describe $target (give it a \`## description\`)" >&2
    status=1
  fi
done
exit "$status"
