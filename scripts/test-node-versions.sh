#!/usr/bin/env bash
# The TypeScript and end-to-end tests on every supported Node major
# ($SHMRPC_NODE_MAJORS, default "20 22 24") other than the one running them
# (scripts/test.sh has just run them on that one). Each major gets its Node
# from scripts/node-dist.sh and an addon built with that Node's headers in
# build/node-<major>/addon, as an npm install on it would build it (the addon
# uses a few functions of V8's API, which is not ABI-stable across majors).
# The live-corruption test runs 100 trials there (400 on the first major).
# Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
current=$(node -p 'process.versions.node.split(".")[0]')
for major in ${SHMRPC_NODE_MAJORS:-20 22 24}; do
  [ "$major" = "$current" ] && continue
  bin=$(scripts/node-dist.sh "$major")
  dir=build/node-$major
  mkdir -p "$dir"
  echo "== TypeScript and end-to-end tests on Node $("$bin/node" --version)"
  PATH="$bin:$PATH" node js/scripts/build-addon.js --dir "$dir/addon" >"$dir/addon-build.log" 2>&1 ||
    { cat "$dir/addon-build.log"; exit 1; }
  PATH="$bin:$PATH" SHMRPC_ADDON="$PWD/$dir/addon/build/Release/shmrpc.node" \
    SHMRPC_CORRUPTION_TRIALS=${SHMRPC_CORRUPTION_TRIALS:-100} \
    node --test --test-concurrency=1 build/ts/tests/js/*.test.js
done
