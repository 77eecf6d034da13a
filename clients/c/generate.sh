#!/bin/sh
# Regenerates the C stubs in clients/c/gen from proto/baton/v1 and the three well-known types the
# contracts import (struct, duration, timestamp), with Debian's protoc-c (protobuf-c-compiler).
#
#   clients/c/generate.sh           rewrite clients/c/gen
#   clients/c/generate.sh --check   regenerate into a temp dir and compare: exit 1 naming every
#                                   stale, missing or extra file (nothing is written)
#
# Environment: PROTOC_C (default protoc-c), PROTOBUF_INCLUDE (where google/protobuf/*.proto live,
# default /usr/include).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
gen="$here/gen"
protoc_c=${PROTOC_C:-protoc-c}
wkt_include=${PROTOBUF_INCLUDE:-/usr/include}
wkt="google/protobuf/struct.proto google/protobuf/duration.proto google/protobuf/timestamp.proto"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "generate.sh: unknown argument '$1' (expected --check or nothing)" >&2; exit 2 ;;
esac

if ! command -v "$protoc_c" >/dev/null 2>&1; then
  echo "generate.sh: $protoc_c not found; install it with: apt-get install protobuf-c-compiler" >&2
  exit 2
fi
for f in $wkt; do
  if [ ! -f "$wkt_include/$f" ]; then
    echo "generate.sh: $wkt_include/$f not found; install libprotobuf-dev (or set PROTOBUF_INCLUDE)" >&2
    exit 2
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/baton-c-gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# Paths relative to the include roots, so that the generated comments and #includes are stable.
(cd "$root/proto" && "$protoc_c" -I. -I"$wkt_include" --c_out="$tmp" baton/v1/*.proto $wkt)
"$protoc_c" --version 2>&1 | head -n 1 > "$tmp/PROTOC_C_VERSION"

if [ "$check" -eq 0 ]; then
  rm -rf "$gen"
  mkdir -p "$gen"
  cp -R "$tmp/." "$gen/"
  echo "generate.sh: wrote $(cd "$tmp" && find . -type f | wc -l | tr -d ' ') files to clients/c/gen"
  exit 0
fi

stale=0
for f in $(cd "$tmp" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
  if [ ! -f "$gen/$f" ]; then
    echo "missing: clients/c/gen/$f"; stale=1
  elif ! cmp -s "$tmp/$f" "$gen/$f"; then
    echo "stale: clients/c/gen/$f"; stale=1
  fi
done
if [ -d "$gen" ]; then
  for f in $(cd "$gen" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); do
    [ -f "$tmp/$f" ] || { echo "extra: clients/c/gen/$f"; stale=1; }
  done
fi
if [ "$stale" -ne 0 ]; then
  echo "generate.sh --check: clients/c/gen differs from proto/ (protoc-c: $(cat "$tmp/PROTOC_C_VERSION")); run clients/c/generate.sh and commit the result" >&2
  exit 1
fi
echo "generate.sh --check: clients/c/gen is up to date"
