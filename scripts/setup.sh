#!/usr/bin/env bash
# Installs what is missing and builds everything: Debian packages, npm
# packages, the C library, codegen, examples and services (CMake, in
# build/cmake), the Node addon (node-gyp, offline) and the TypeScript
# (build/ts). Safe to run again; each step is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_TYPE=${SHMRPC_BUILD_TYPE:-RelWithDebInfo}
debian_packages=(
  build-essential cmake pkg-config python3
  protobuf-compiler libprotobuf-dev libprotoc-dev python3-protobuf
  nanopb libnanopb-dev libcmocka-dev
  clang libclang-rt-dev
  lld wasi-libc libclang-rt-14-dev-wasm32
  chromium
  curl
)
command -v node >/dev/null || debian_packages+=(nodejs npm)
[ -f /usr/include/node/node_api.h ] || [ -n "${npm_config_nodedir:-}" ] || debian_packages+=(libnode-dev)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

echo "setup: nanopb runtime source, for 32-bit field sizes (scripts/fetch-nanopb.sh)"
scripts/fetch-nanopb.sh >/dev/null

echo "setup: C library, codegen, services (build/cmake)"
cmake -S . -B build/cmake -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build build/cmake -j2

# The same C sources for WebAssembly (cmake/Wasm32Wasi.cmake): services for
# a browser Worker and the C tests that need no threads; the generated C
# comes from the plugin just built.
echo "setup: WebAssembly build (build/wasm)"
cmake -S . -B build/wasm -DCMAKE_TOOLCHAIN_FILE=cmake/Wasm32Wasi.cmake \
  -DCMAKE_BUILD_TYPE=Release \
  -DSHMRPC_PLUGIN_PROGRAM="$PWD/build/cmake/codegen/protoc-gen-shmrpc" >/dev/null
cmake --build build/wasm -j2

echo "setup: Node addon (build/Release/shmrpc.node)"
node js/scripts/build-addon.js >build/addon-build.log 2>&1 || { cat build/addon-build.log; exit 1; }

echo "setup: TypeScript (build/ts)"
node node_modules/typescript/bin/tsc -p tsconfig.json
