#!/usr/bin/env bash
# Runs every test: C (ctest), C under AddressSanitizer + UBSan, the ring
# stress test under ThreadSanitizer, the TypeScript/end-to-end tests, a
# few seconds of every fuzz target (scripts/fuzz.sh) and protobuf's
# conformance suite against the generated codec.
# Sets up and builds first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== layering of the TypeScript runtime"
node scripts/check-layers.mjs

echo "== C tests"
ctest --test-dir build/cmake --output-on-failure -j2

# The channel library alone, with a pb.h that fails the build if anything
# below the RPC layer includes nanopb (docs: c/include/shmrpc.h).
echo "== C channel layer without the RPC layer or nanopb"
cmake -S . -B build/channel-only -DSHMRPC_BUILD_RPC=OFF >/dev/null
cmake --build build/channel-only -j2 >/dev/null
ctest --test-dir build/channel-only --output-on-failure -j2 -E stress

# Built with clang: its UBSan also catches arithmetic on null pointers,
# which gcc's does not.
echo "== C tests under AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
CC=clang cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DASAN=ON \
  -DUBSAN=ON -DSHMRPC_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build/sanitize -j2 >/dev/null
ctest --test-dir build/sanitize --output-on-failure -j2

echo "== ring stress, wait-core and relay tests under ThreadSanitizer"
cmake -S . -B build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTSAN=ON \
  -DSHMRPC_BUILD_EXAMPLES=OFF -DSHMRPC_BUILD_CODEGEN=OFF >/dev/null
cmake --build build/tsan -j2 --target test_stress test_wait test_state_table test_relay >/dev/null
ctest --test-dir build/tsan --output-on-failure -R "stress|test_wait|state_table|test_relay"

echo "== C protocol tests compiled to WebAssembly (Node's WASI)"
ctest --test-dir build/wasm --output-on-failure -j2

echo "== TypeScript and end-to-end tests"
# A glob, not the directory: Node 22+ reads a directory argument as a module.
node --test --test-concurrency=1 build/ts/tests/js/*.test.js

echo "== fuzz targets, a few seconds each (scripts/fuzz.sh --long: 10 million runs each)"
scripts/fuzz.sh

echo "== browser tests (headless Chromium, one browser; screenshots in build/browser)"
node --test --test-concurrency=1 build/ts/tests/browser/*.test.js

echo "== protobuf conformance suite (generated TypeScript codec)"
scripts/conformance.sh

# The same on the other supported Node majors (each prints its own heading).
scripts/test-node-versions.sh

echo "== the package as users get it (npm pack, npm install, cmake --install)"
scripts/test-package.sh
