#!/usr/bin/env bash
# Builds what is needed (scripts/setup.sh), then runs the main demo. Setup's
# progress goes to a log, printed in full if setup fails.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! scripts/setup.sh >"$log" 2>&1; then
  cat "$log" >&2
  echo "demo: scripts/setup.sh failed (its output is above)" >&2
  exit 1
fi
node build/ts/examples/greeter/client.js "$@"
