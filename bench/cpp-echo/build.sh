#!/usr/bin/env bash
# Builds the C++ gRPC echo server into OUT (default bench/out/cpp-echo) from
# Debian's libgrpc++-dev + protobuf-compiler-grpc and the interop protos in
# /usr/share/grpc-proto. Prints the binary's path. Rebuilds only when stale.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../out/cpp-echo}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bin=$out/echo_server
protos=(grpc/testing/empty.proto grpc/testing/messages.proto grpc/testing/test.proto)
if [ -x "$bin" ] && [ "$bin" -nt "$here/echo_server.cc" ] && [ "$bin" -nt "$here/build.sh" ]; then
  echo "$bin"; exit 0
fi
plugin=$(command -v grpc_cpp_plugin) || { echo "grpc_cpp_plugin missing: apt-get install protobuf-compiler-grpc (scripts/setup)" >&2; exit 1; }
protoc -I/usr/share/grpc-proto --cpp_out="$out" --grpc_out="$out" --plugin=protoc-gen-grpc="$plugin" "${protos[@]}"
srcs=("$here/echo_server.cc")
for p in "${protos[@]}"; do srcs+=("$out/${p%.proto}.pb.cc"); done
srcs+=("$out/grpc/testing/test.grpc.pb.cc")
# shellcheck disable=SC2046
g++ -std=c++17 -O2 -DNDEBUG -I"$out" -o "$bin.tmp" "${srcs[@]}" $(pkg-config --cflags --libs grpc++ protobuf) -lpthread >&2
mv "$bin.tmp" "$bin"
echo "$bin"
