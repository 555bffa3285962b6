#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major version (20, 22,
# 24, ...), fetching it once into the cache: the official Linux build as the
# npm registry carries it (package node-linux-<arch>, which holds bin/node
# and include/node). Cache: $SHMRPC_CACHE_DIR, else
# ${XDG_CACHE_HOME:-~/.cache}/shmrpc; delete node-<major> there to update.
set -euo pipefail
major=${1:?usage: node-dist.sh MAJOR}
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "node-dist: no Node build for $(uname -m) on the npm registry" >&2; exit 1 ;;
esac
cache=${SHMRPC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shmrpc}
dir=$cache/node-$major
if [ ! -x "$dir/bin/node" ] || [ ! -f "$dir/include/node/node_api.h" ]; then
  mkdir -p "$cache"
  staging=$(mktemp -d "$cache/.node-$major.XXXXXX")
  trap 'rm -rf "$staging"' EXIT
  echo "node-dist: fetching node-linux-$arch@$major into $dir" >&2
  tarball=$(cd "$staging" && npm pack --silent --no-update-notifier "node-linux-$arch@$major" | tail -n 1)
  mkdir "$staging/node"
  tar xzf "$staging/$tarball" -C "$staging/node" --strip-components=1
  rm -rf "$dir"
  mv "$staging/node" "$dir"
fi
echo "$dir/bin"
