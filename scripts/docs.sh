#!/usr/bin/env bash
# Builds the API reference into build/docs: the TypeScript runtime from its
# TSDoc (typedoc, fetched by npx) in build/docs/ts, the C API from the
# headers in c/include (Doxygen, a Debian package) in build/docs/c. Not run
# by CI. Needs scripts/setup.sh to have run (node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v doxygen >/dev/null; then
  echo "docs: installing doxygen"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends doxygen
fi

echo "docs: TypeScript API (build/docs/ts/index.html)"
npx --yes typedoc@0.28 --tsconfig tsconfig.pack.json --out build/docs/ts \
  --name shmrpc --readme none --excludePrivate --excludeInternal \
  $(node -e 'const e = require("./package.json").exports;
    for (const target of Object.values(e)) if (typeof target === "string" && target.endsWith(".js"))
      console.log(target.replace("./build/ts/", "").replace(/\.js$/, ".ts"));')

echo "docs: C API (build/docs/c/html/index.html)"
doxygen docs/Doxyfile
