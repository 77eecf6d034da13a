#!/usr/bin/env bash
# Workflows through the public API: N three-step workflows (A -> B, A -> C, builtin.echo) started
# with StartWorkflow and observed to completion with StreamProgress by baton-loadgen (Swift client,
# HTTP/2), against `baton server` with durability FULL on a fresh SQLite file. Release builds.
#
#   bench/run api
#
# Environment: API_N (20000) API_C (200 in flight) API_CONNECTIONS (4)
# Ends with: api: N workflows/s
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/api
rm -rf "$out"; mkdir -p "$out"
N=${API_N:-20000}
C=${API_C:-200}
K=${API_CONNECTIONS:-4}

echo "api: building baton and baton-loadgen (release, .build-release)" >&2
swift build -c release --product baton --scratch-path .build-release >&2
swift build -c release --product baton-loadgen --scratch-path .build-release >&2
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)

"$bin/baton" server --listen 127.0.0.1:0 --data "$out/data" --durability full >"$out/server.log" 2>"$out/server.err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$out/server.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "api: server did not start" >&2; exit 1; }
echo "api: $(nproc) cores; server and load generator share them" >&2
"$bin/baton-loadgen" --address "127.0.0.1:$port" --workflows "$N" --concurrency "$C" --connections "$K"
