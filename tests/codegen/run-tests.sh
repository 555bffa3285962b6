#!/bin/sh
# Builds protoc-gen-shmrpc and everything its tests need in build-codegen/
# (standalone, independent of the rest of the tree), then runs the C tests
# (ctest) and the TypeScript tests of the generated code.
#
#   tests/codegen/run-tests.sh            build and test
#   tests/codegen/run-tests.sh --bench    also run bench/codec.ts
set -eu
cd "$(dirname "$0")/../.."
build=build-codegen

cmake -S codegen -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2
(cd "$build" && ctest --output-on-failure)

# TypeScript into build-codegen/ts. A package.json there makes the generated
# code's `import "shmrpc/pb"` resolve to this build (a package self-reference),
# as the repository's own package.json does for build/ts.
npx tsc -p tests/codegen/tsconfig.json
printf '%s\n' '{"name":"shmrpc","type":"module","exports":{"./pb":"./js/src/codegen-runtime.js"}}' \
  >"$build/ts/package.json"
SHMRPC_PLUGIN="$PWD/$build/protoc-gen-shmrpc" \
SHMRPC_CODEGEN_REENCODE="$PWD/$build/tests/codegen_reencode" \
  node --test --test-concurrency=1 \
    "$build"/ts/tests/js/codec-*.test.js "$build"/ts/tests/js/codegen-*.test.js

if [ "${1:-}" = "--bench" ]; then
  node "$build/ts/bench/codec.js"
fi
