#!/usr/bin/env bash
# Fetches the source of nanopb's runtime (pb_common.c, pb_encode.c,
# pb_decode.c and their headers) for the nanopb version Debian installed,
# so that the build can compile it with 32-bit field sizes (PB_FIELD_32BIT):
# Debian's prebuilt libprotobuf-nanopb.a has 16-bit sizes and refuses any
# bytes or string field of 65,536 bytes or more.
#
# The source comes from Debian's source package (apt-get source: signed
# indices, the same version and patches as the binary packages). The first
# run adds a deb-src entry of its own (/etc/apt/sources.list.d/
# shmrpc-deb-src.sources, the mirror the binaries came from) and updates
# that entry's index only. The files are kept in a cache outside the
# repository: $SHMRPC_CACHE_DIR, else $XDG_CACHE_HOME/shmrpc, else
# ~/.cache/shmrpc, as nanopb-<version>/. Later runs find them and return at
# once. Prints the directory. cmake/Nanopb.cmake looks in the same place.
set -euo pipefail

version=$(dpkg-query -W -f='${Version}' libnanopb-dev 2>/dev/null) || {
  echo "fetch-nanopb: libnanopb-dev is not installed (scripts/setup.sh installs it)" >&2
  exit 1
}
cache=${SHMRPC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/shmrpc}
dir=$cache/nanopb-$version
if [ -f "$dir/pb_decode.c" ]; then
  echo "$dir"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
has_source() {
  apt-cache showsrc nanopb 2>/dev/null | grep -qx "Version: $version"
}
if ! has_source; then
  # The mirror and suite that libnanopb-dev was installed from.
  read -r mirror suite < <(apt-cache policy libnanopb-dev |
    awk '$1 ~ /^[0-9]+$/ && $2 ~ /^https?:/ { split($3, s, "/"); print $2, s[1]; exit }')
  list=/etc/apt/sources.list.d/shmrpc-deb-src.sources
  echo "fetch-nanopb: adding deb-src $mirror $suite ($list)" >&2
  printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$suite" | $sudo tee "$list" >/dev/null
  $sudo apt-get update -q -o DPkg::Lock::Timeout=600 \
    -o Dir::Etc::sourcelist="$list" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 >&2
  has_source || {
    echo "fetch-nanopb: Debian has no source for nanopb $version" >&2
    exit 1
  }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-nanopb: apt-get source nanopb=$version" >&2
(cd "$work" && apt-get source -q "nanopb=$version" >&2)
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'nanopb-*' | head -n 1)
[ -f "$src/pb_decode.c" ] || {
  echo "fetch-nanopb: no pb_decode.c in the source package" >&2
  exit 1
}
mkdir -p "$cache"
staged=$(mktemp -d "$cache/.nanopb-XXXXXX")
chmod 755 "$staged"
# The runtime alone, with its licence; `cp -p` keeps the tarball's times,
# so a fetch into a new cache does not make the build recompile.
cp -p "$src"/pb.h "$src"/pb_common.[ch] "$src"/pb_encode.[ch] \
  "$src"/pb_decode.[ch] "$src"/LICENSE.txt "$staged"/
rm -rf "$dir"
mv "$staged" "$dir"
echo "$dir"
