#!/usr/bin/env bash
# The soak run (issue 18; not part of CI): 10^8 frames of mixed types and
# sizes with checksums through the in-process channel, then 10 minutes of
# RPC calls with random deadlines and cancellations; reports lost,
# duplicated, reordered and corrupted frames, unsettled and crossed calls,
# stream gaps and memory over time, and exits non-zero if any of them is
# not 0 or memory was not flat (tests/js/soak/main.ts says what is
# checked). About an hour for the frames on a shared 2-core machine
# (30,000 frames/s).
#
#   scripts/soak.sh                       # the full run
#   scripts/soak.sh --short               # 10^6 frames and 30 s of RPC
#   scripts/soak.sh --frames N --rpc-seconds S --seed N
#
# The report (one JSON line, memory samples included) goes to stdout,
# progress to stderr. Sets up and builds first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
scripts/setup.sh >"$log" 2>&1 || { cat "$log"; exit 1; }
args=("$@")
if [ "${1:-}" = "--short" ]; then
  args=(--frames 1000000 --rpc-seconds 30 "${@:2}")
fi
node build/ts/tests/js/soak/main.js "${args[@]}"
