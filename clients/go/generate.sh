#!/usr/bin/env bash
# Generates the Go code of Baton's API (proto/baton/v1/*.proto) with Debian's protoc-gen-go and
# protoc-gen-go-grpc into src/baton.dev/baton/batonv1 (import path baton.dev/baton/batonv1).
#
#   clients/go/generate.sh            regenerate (idempotent: same protos, same tools, same bytes)
#   clients/go/generate.sh --check    regenerate into a temp dir and compare; exit 1 naming stale files
#
# The generated files are committed, so building the client needs no protoc.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
proto_root="$repo/proto"
import_path="baton.dev/baton/batonv1"
target="$here/src/$import_path"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  if ! command -v "$tool" >/dev/null; then
    echo "generate.sh: $tool is not installed (apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc)" >&2
    exit 2
  fi
done

cd "$proto_root"
protos=(baton/v1/*.proto)
if [ ! -e "${protos[0]}" ]; then
  echo "generate.sh: no .proto files under $proto_root/baton/v1" >&2
  exit 2
fi

# Every proto file maps to our import path instead of its go_package ("baton/v1;batonv1").
maps=()
for p in "${protos[@]}"; do maps+=("M$p=$import_path;batonv1"); done
go_opts=$(IFS=,; echo "${maps[*]}")

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
protoc -I "$proto_root" -I /usr/include \
  --go_out="$out" --go_opt="$go_opts" \
  --go-grpc_out="$out" --go-grpc_opt="$go_opts" \
  "${protos[@]}"
generated="$out/$import_path"

if [ "$check" = 1 ]; then
  stale=()
  for f in "$generated"/*.go; do
    name="$(basename "$f")"
    cmp -s "$f" "$target/$name" || stale+=("clients/go/src/$import_path/$name")
  done
  if [ -d "$target" ]; then
    for f in "$target"/*.pb.go; do
      [ -e "$f" ] || continue
      name="$(basename "$f")"
      [ -e "$generated/$name" ] || stale+=("clients/go/src/$import_path/$name (no longer generated)")
    done
  fi
  if [ "${#stale[@]}" -gt 0 ]; then
    echo "generate.sh --check: generated Go code is stale; run clients/go/generate.sh and commit:" >&2
    printf '  %s\n' "${stale[@]}" >&2
    exit 1
  fi
  echo "generate.sh --check: clients/go/src/$import_path is up to date"
  exit 0
fi

mkdir -p "$target"
rm -f "$target"/*.pb.go
cp "$generated"/*.go "$target/"
echo "generate.sh: wrote $(ls "$generated" | wc -l) files to clients/go/src/$import_path"
