#!/usr/bin/env bash
# protobuf's conformance suite (binary and JSON tests, proto2 and proto3)
# against the TypeScript codec protoc-gen-shmrpc generates. Generates the
# suite's protos into build/conformance/gen, compiles
# tests/conformance/testee.ts and runs protobuf's conformance_test_runner
# with it. Fails on any failing test. JSON goes the HTTP gateway's way
# (tests/conformance/json-route.ts); text-format tests are answered
# "skipped".
#
# The runner and its protos: $SHMRPC_CONFORMANCE_DIR, else shared/conformance
# beside the checkout (../shared/conformance), or beside its parent
# directory (a worktree under a folder of worktrees). Needs scripts/setup.sh
# to have run (protoc-gen-shmrpc and node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${SHMRPC_CONFORMANCE_DIR:-}
if [ -z "$dir" ]; then
  for candidate in ../shared/conformance ../../shared/conformance; do
    if [ -x "$candidate/conformance_test_runner" ]; then dir=$candidate; break; fi
  done
fi
if [ -z "$dir" ] || [ ! -x "$dir/conformance_test_runner" ]; then
  echo "conformance: conformance_test_runner not found: set SHMRPC_CONFORMANCE_DIR to the" \
       "folder holding it and its protos (default ../shared/conformance)" >&2
  exit 1
fi
dir=$(cd "$dir" && pwd)
out=build/conformance

rm -rf "$out/gen"
node js/bin/shmrpc.js gen "$dir/conformance.proto" "$dir/test_messages_proto3.proto" \
  "$dir/test_messages_proto2.proto" -I "$dir" --ts-out "$out/gen"
node node_modules/typescript/bin/tsc -p tests/conformance/tsconfig.json
chmod +x "$out/ts/tests/conformance/testee.js"

# The runner prints one line per failing test and a summary line; the testee
# prints how many binary requests it answered per message type.
log="$out/runner.log"
status=0
"$dir/conformance_test_runner" --enforce_recommended --output_dir "$out" \
  "$PWD/$out/ts/tests/conformance/testee.js" >"$log" 2>&1 || status=$?
grep -E "^ERROR" "$log" | cut -c1-400 | head -50 || true
# The runner does not wait for the testee, which prints its counts when its
# input ends: give each of the two runs (binary/JSON, text) a moment.
for _ in $(seq 50); do
  [ "$(grep -c "^testee: skipped" "$log" || true)" -ge 2 ] && break
  sleep 0.1
done
for format in binary json; do
  case $format in
    binary) categories="BINARY_TEST" ;;
    json) categories="JSON_TEST|JSON_IGNORE_UNKNOWN_PARSING_TEST" ;;
  esac
  for proto in proto3 proto2; do
    answered=$(awk -v format="$format" -v type="protobuf_test_messages.$proto." \
      '$1 == "testee:" && $2 == format && index($3, type) == 1 { n += $4 } END { print n + 0 }' "$log")
    failed=$(grep -E "^ERROR" "$log" |
      grep -cE "message_type: \"protobuf_test_messages\.$proto\..*test_category: ($categories)\b" || true)
    echo "conformance: $proto $format tests: $(( answered - failed )) of $answered passed"
  done
done
skipped=$(awk '$1 == "testee:" && $2 == "skipped" { n += $3 } END { print n + 0 }' "$log")
echo "conformance: $skipped tests skipped (text format)"
if [ "$status" -ne 0 ] || grep -q "CONFORMANCE SUITE FAILED" "$log" ||
   ! grep -q "CONFORMANCE SUITE PASSED" "$log"; then
  echo "conformance: FAILED (runner exit $status; full output in $log)" >&2
  exit 1
fi
