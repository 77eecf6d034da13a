#!/usr/bin/env bash
# Unary echo throughput: Baton's RPC server vs a C++ gRPC server (Debian's libgrpc++),
# both serving grpc.testing.TestService/UnaryCall on loopback, each driven by h2load
# with the same gRPC-framed request and the same -n/-c/-m, one after the other.
#
#   bench/run rpc
#
# Environment:
#   RPC_N (200000) RPC_C (16) RPC_M (32)   h2load requests / connections / streams per connection
#   RPC_SIZE (100)                         request payload and response_size, bytes
#   RPC_WARMUP (10000)                     requests sent to each server before its measured run (0: none)
#   BATON_RELEASE_BIN                      use this baton binary instead of building one
# Ends with: rpc: N req/s, C++ gRPC: M req/s, ratio R
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=$root/bench/out/rpc
mkdir -p "$out"

N=${RPC_N:-200000}
C=${RPC_C:-16}
M=${RPC_M:-32}
SIZE=${RPC_SIZE:-100}
WARMUP=${RPC_WARMUP:-10000}
PATH_UNARY=/grpc.testing.TestService/UnaryCall

for tool in h2load nghttp python3 g++ pkg-config protoc; do
  command -v "$tool" >/dev/null || { echo "rpc: $tool is missing; run scripts/setup" >&2; exit 1; }
done

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- builds
echo "rpc: building the C++ gRPC echo server" >&2
cpp_bin=$(bench/cpp-echo/build.sh "$root/bench/out/cpp-echo")
if [ -n "${BATON_RELEASE_BIN:-}" ]; then
  baton_bin=$BATON_RELEASE_BIN
else
  echo "rpc: building baton (release, .build-release)" >&2
  swift build -c release --product baton --scratch-path .build-release >&2
  baton_bin=$(swift build -c release --product baton --scratch-path .build-release --show-bin-path)/baton
fi

# ---- request body: 5-byte gRPC prefix + SimpleRequest{response_size: SIZE, payload{body: SIZE zero bytes}}
body=$out/unary-$SIZE.bin
python3 - "$SIZE" "$body" <<'EOF'
import struct, sys
size, path = int(sys.argv[1]), sys.argv[2]
def varint(n):
    b = bytearray()
    while True:
        b.append((n & 0x7F) | (0x80 if n > 0x7F else 0)); n >>= 7
        if not n: return bytes(b)
payload = b"\x12" + varint(size) + bytes(size)                            # Payload.body = 2
msg = b"\x10" + varint(size) + b"\x1a" + varint(len(payload)) + payload   # response_size = 2, payload = 3
open(path, "wb").write(struct.pack(">BI", 0, len(msg)) + msg)
EOF

# ---- helpers
start_server() {  # name logfile cmd... ; sets $port, appends pid
  local name=$1 log=$2; shift 2
  "$@" >"$log" 2>"$log.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "rpc: $name exited at startup:" >&2; cat "$log.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "rpc: $name did not report a listening port" >&2; exit 1
}

check_echo() {  # name port: one call with nghttp, must end with grpc-status 0 and a response
  local name=$1 port=$2 log=$out/$1-check.txt
  nghttp -v -t 10 -d "$body" -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port$PATH_UNARY" >"$log" 2>&1 || true
  if ! grep -q 'grpc-status: 0' "$log" || ! grep -q ':status: 200' "$log"; then
    echo "rpc: $name did not answer the echo request with grpc-status 0 (see $log)" >&2; tail -20 "$log" >&2; exit 1
  fi
}

run_h2load() {  # name port n -> prints req/s; fails on any failed/errored/timeout request
  local name=$1 port=$2 n=$3 log=$out/$1-h2load-$3.txt
  h2load -n "$n" -c "$C" -m "$M" -t 1 -d "$body" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port$PATH_UNARY" >"$log" 2>&1 || { echo "rpc: h2load failed against $name" >&2; cat "$log" >&2; exit 1; }
  local reqline; reqline=$(grep '^requests:' "$log")
  local succeeded failed errored timeout
  succeeded=$(sed -n 's/.* \([0-9]*\) succeeded.*/\1/p' <<<"$reqline")
  failed=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$reqline")
  errored=$(sed -n 's/.* \([0-9]*\) errored.*/\1/p' <<<"$reqline")
  timeout=$(sed -n 's/.* \([0-9]*\) timeout.*/\1/p' <<<"$reqline")
  if [ "$succeeded" != "$n" ] || [ "$failed" != 0 ] || [ "$errored" != 0 ] || [ "${timeout:-0}" != 0 ]; then
    echo "rpc: $name: $reqline" >&2; cat "$log" >&2; exit 1
  fi
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p' "$log"
}

bench_one() {  # name port -> sets $rps
  local name=$1 port=$2
  check_echo "$name" "$port"
  [ "$WARMUP" -gt 0 ] && run_h2load "$name" "$port" "$WARMUP" >/dev/null
  rps=$(run_h2load "$name" "$port" "$N")
  echo "--- $name (127.0.0.1:$port): h2load -n $N -c $C -m $M -t 1" >&2
  grep -E '^(finished in|requests:|status codes:|traffic:|time for request:|req/s )' "$out/$name-h2load-$N.txt" >&2
}

echo "rpc: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); request $(stat -c %s "$body") bytes framed, response_size $SIZE" >&2

# ---- Baton
rm -rf "$out/baton-data"
start_server baton "$out/baton.log" "$baton_bin" server --listen 127.0.0.1:0 --enable-test-service --data "$out/baton-data"
baton_port=$port; baton_pid=${pids[-1]}
bench_one baton "$baton_port"; baton_rps=$rps
kill -TERM "$baton_pid"; wait "$baton_pid" || echo "rpc: note: baton exited $? after SIGTERM" >&2

# ---- C++ gRPC
start_server cpp-grpc "$out/cpp.log" "$cpp_bin" 127.0.0.1:0
cpp_port=$port; cpp_pid=${pids[-1]}
bench_one cpp-grpc "$cpp_port"; cpp_rps=$rps
kill -TERM "$cpp_pid"; wait "$cpp_pid" || true
pids=()

ratio=$(python3 -c "print(f'{float($baton_rps) / float($cpp_rps):.2f}')")
printf 'rpc: %.0f req/s, C++ gRPC: %.0f req/s, ratio %s\n' "$baton_rps" "$cpp_rps" "$ratio"
