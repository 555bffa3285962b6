#!/usr/bin/env bash
# The package as a user gets it (tests/package/README.md): packs shmrpc,
# installs the C library into a prefix with `cmake --install`, then builds and
# runs tests/package/app twice in a temporary directory with an empty HOME and
# no npm_config_*: once with the tarball installed, once with
# `npm install <this checkout>`, after which the checkout's build/ must be
# intact. Needs scripts/setup.sh to have run (build/cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home
mkdir -p "$HOME"
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -i '^npm_config_' || true)
npm=(npm --no-audit --no-fund --no-update-notifier --loglevel=error)

fail() {
  echo "package: FAILED: $*" >&2
  exit 1
}

expected="reserve -> bolt x3, 7 left, note absent
reserve -> nut x2, 5 left, note noted: urgent
reserve -> FAILED_PRECONDITION
watch -> 5 6 7
service exited with 0"

# Builds the app in $1 (shmrpc already installed there) and runs it.
build_and_run_app() {
  local app=$1
  (
    cd "$app"
    npx shmrpc gen proto/inventory.proto -I proto --ts-out src/gen
    cmake -S service -B build/service -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    cmake --build build/service >/dev/null
    npx tsc -p tsconfig.json
    output=$(node build/js/main.js build/service/libinventory_service.so)
    if [ "$output" != "$expected" ]; then
      printf 'got:\n%s\nexpected:\n%s\n' "$output" "$expected" >&2
      fail "the app in $app printed something else"
    fi
  )
}

echo "package: npm pack"
tarball=$("${npm[@]}" pack --pack-destination "$work" | tail -n 1)
tarball=$work/$tarball
[ -f "$tarball" ] || fail "npm pack made no $tarball"
contents=$(tar tzf "$tarball")
for file in package/build/ts/js/src/index.js package/build/ts/js/src/index.d.ts package/js/bin/shmrpc.js; do
  grep -qx "$file" <<<"$contents" || fail "the tarball lacks $file"
done

echo "package: cmake --install build/cmake --prefix <tmp>/prefix"
cmake --install build/cmake --prefix "$work/prefix" >/dev/null
# pkg-config users: a program that links each C library through shmrpc.pc.
cat >"$work/pc.c" <<'C'
#include <shmrpc.h>
#include <shmrpc/rpc.h>
#include <shmrpc/xproc.h>
#include <stdio.h>
int main(void) {
  shmrpc_server_options_t rpc;
  shmrpc_xproc_server_options_t xproc;
  shmrpc_server_options_init(&rpc);
  shmrpc_xproc_server_options_init(&xproc);
  puts(shmrpc_err_name(0));
  return 0;
}
C
# shellcheck disable=SC2046
cc -o "$work/pc" "$work/pc.c" $(PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig pkg-config --cflags --libs shmrpc)
"$work/pc" >/dev/null

echo "package: an app with the tarball installed (addon and plugin built on the spot)"
cp -r tests/package/app "$work/app-tarball"
(cd "$work/app-tarball" && "${npm[@]}" install "$tarball")
[ -f "$work/app-tarball/node_modules/shmrpc/build/Release/shmrpc.node" ] || fail "installing the tarball built no addon"
build_and_run_app "$work/app-tarball"

echo "package: an app with npm install <checkout>"
before=$(find build -path build/cmake -prune -o -path build/asan -prune -o -path build/tsan -prune -o -type f -print | sort)
cp -r tests/package/app "$work/app-path"
(cd "$work/app-path" && "${npm[@]}" install "$root")
after=$(find build -path build/cmake -prune -o -path build/asan -prune -o -path build/tsan -prune -o -type f -print | sort)
lost=$(comm -23 <(echo "$before") <(echo "$after"))
[ -z "$lost" ] || fail "npm install <checkout> deleted files in the checkout's build/: $(echo "$lost" | head -5)"
[ -d build/cmake ] || fail "npm install <checkout> deleted build/cmake"
build_and_run_app "$work/app-path"
echo "package: passed"
