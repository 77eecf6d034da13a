#!/usr/bin/env bash
# Scale of open runs: N workflows that wait for a signal (bench_open: wait_for_signal, then one
# builtin.echo), started through the API by baton-loadgen. Then:
#   1. the server's RSS with N runs open (target < 1 GiB, i.e. < 10 KiB per open run);
#   2. kill -9 and restart on the same data: the time until the server answers (describe open-0), and
#      that all N runs are still RUNNING (baton count) (target < 5 s);
#   3. signal every run and await its completion: workflows/s.
# Release builds, durability FULL.
#
#   bench/run open
#
# Environment: OPEN_N (100000) OPEN_C (200 in flight) OPEN_CONNECTIONS (4)
# Ends with: open: N runs, RSS X MiB (Y KiB/run), restart Z s, signalled W workflows/s
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/open
rm -rf "$out"; mkdir -p "$out"
N=${OPEN_N:-100000}
C=${OPEN_C:-200}
K=${OPEN_CONNECTIONS:-4}

echo "open: building baton and baton-loadgen (release, .build-release)" >&2
for product in baton baton-loadgen; do swift build -c release --product "$product" --scratch-path .build-release >&2; done
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)

pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true' EXIT
start_server() {
  : >"$out/server.log"
  "$bin/baton" server --listen "127.0.0.1:${port:-0}" --data "$out/data" --durability full >"$out/server.log" 2>>"$out/server.err" &
  pid=$!
}
wait_listening() {
  for _ in $(seq 1 3000); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$out/server.log" | head -1)
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
    sleep 0.01
  done
  echo "open: server did not start" >&2; exit 1
}

start_server; wait_listening
"$bin/baton-loadgen" --address "127.0.0.1:$port" --workflows "$N" --concurrency "$C" --connections "$K" --mode open | tee "$out/open.txt" >&2
rss_kib=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
echo "open: $N runs open, server RSS $((rss_kib / 1024)) MiB" >&2

kill -9 "$pid"; wait "$pid" 2>/dev/null || true
begin=$(date +%s.%N)
start_server; wait_listening
until "$bin/baton" describe open-0 --address "127.0.0.1:$port" >/dev/null 2>&1; do
  kill -0 "$pid" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
  sleep 0.01
done
answered=$(date +%s.%N)
restart=$(awk -v a="$begin" -v b="$answered" 'BEGIN { printf "%.2f", b - a }')
open=$("$bin/baton" count -s running -d bench_open --address "127.0.0.1:$port")
echo "open: restarted after kill -9: answering in $restart s; $open of $N still running" >&2
[ "$open" = "$N" ] || { echo "open: expected $N open runs after the restart, found $open" >&2; exit 1; }

"$bin/baton-loadgen" --address "127.0.0.1:$port" --workflows "$N" --concurrency "$C" --connections "$K" --mode signal | tee "$out/signal.txt" >&2
rate=$(sed -n 's/^signal: \([0-9][0-9]*\) workflows\/s.*/\1/p' "$out/signal.txt")
awk -v n="$N" -v r="$rss_kib" -v t="$restart" -v w="$rate" 'BEGIN {
  printf "open: %d runs, RSS %.0f MiB (%.1f KiB/run), restart %.2f s, signalled %d workflows/s\n", n, r / 1024, r / n, t, w
}'
