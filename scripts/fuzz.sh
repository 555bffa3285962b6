#!/usr/bin/env bash
# Fuzzes every decoder of untrusted bytes: the libFuzzer targets of
# tests/fuzz (C, built with clang under AddressSanitizer + UBSan in
# build/fuzz) and the TypeScript fuzz loop (tests/js/fuzz/).
#
#   scripts/fuzz.sh                  a short run: each target a few seconds
#                                    (SHMRPC_FUZZ_SECONDS, default 4)
#   scripts/fuzz.sh --long           each target for 10 million executions
#                                    (SHMRPC_FUZZ_RUNS), at low priority
#   scripts/fuzz.sh [--long] NAME..  only these targets (fuzz_frame, ...,
#                                    js:<target> or js for the TypeScript ones)
#
# Seeds come from tests/vectors (tests/fuzz/make_seeds.py); what a run
# finds is kept in build/fuzz/corpus/<target>; a crashing input is written
# to build/fuzz/crashes/ and the script fails. For each target the script
# prints its last status line (#executions, cov: edges, ft: features) and
# the total number of runs. Needs
# scripts/setup.sh to have run (clang, the TypeScript build).
set -euo pipefail
cd "$(dirname "$0")/.."

long=false
names=()
for arg in "$@"; do
  case "$arg" in
    --long) long=true ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) names+=("$arg") ;;
  esac
done
c_targets=(fuzz_frame fuzz_channel_segment fuzz_reassembly fuzz_rpc_dispatch
  fuzz_nanopb_decode)
[ ${#names[@]} -gt 0 ] || names=("${c_targets[@]}" js)

CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSHMRPC_FUZZ=ON -DASAN=ON -DUBSAN=ON -DSHMRPC_BUILD_EXAMPLES=OFF >/dev/null
python3 tests/fuzz/make_seeds.py tests/vectors build/fuzz/seeds
mkdir -p build/fuzz/crashes

if $long; then
  limit=(-runs="${SHMRPC_FUZZ_RUNS:-10000000}")
  run=(nice -n 10)
else
  limit=(-max_total_time="${SHMRPC_FUZZ_SECONDS:-4}")
  run=()
fi

for name in "${names[@]}"; do
  case "$name" in
    js | js:*)
      js_args=()
      [ "$name" = js ] || js_args+=(--target "${name#js:}")
      if $long; then
        js_args+=(--runs "${SHMRPC_FUZZ_RUNS:-10000000}")
      else
        js_args+=(--seconds "${SHMRPC_FUZZ_SECONDS:-4}")
      fi
      echo "== TypeScript fuzz loop ${js_args[*]}"
      "${run[@]}" node build/ts/tests/js/fuzz/run.js "${js_args[@]}"
      ;;
    *)
      cmake --build build/fuzz -j2 --target "$name" >/dev/null
      corpus=build/fuzz/corpus/$name
      mkdir -p "$corpus"
      echo "== $name"
      # -timeout: an input that takes 10 s is a hang (generous: the CPU may
      # be shared); the run fails.
      log=build/fuzz/$name.log
      status=0
      "${run[@]}" "build/fuzz/tests/fuzz/$name" "${limit[@]}" -timeout=10 \
        -rss_limit_mb=2048 -max_len=8192 \
        -artifact_prefix="build/fuzz/crashes/$name-" \
        "$corpus" "build/fuzz/seeds/$name" >"$log" 2>&1 || status=$?
      # The last status line (executions, coverage) and the total.
      grep -E '^#[0-9]+' "$log" | tail -n 1 || true
      grep -E '^Done [0-9]+ runs' "$log" || true
      if [ $status -ne 0 ]; then
        tail -n 40 "$log"
        echo "fuzz: $name failed (input in build/fuzz/crashes/, log $log)"
        exit 1
      fi
      ;;
  esac
done
