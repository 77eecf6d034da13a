#!/usr/bin/env bash
# The external-worker path against the in-process engine, side by side in one run: N workflows of three
# sequential steps (a -> b -> c) started and awaited (AwaitWorkflow) through the public API by
# baton-loadgen, with the activities run
#   - in-process: builtin.echo inside the server;
#   - worker: by W external Swift worker processes (baton-bench-worker, BatonWorker) polling queue "bench".
# Each phase gets a fresh `baton server` (durability FULL, fresh SQLite file); the server's CPU time
# (utime+stime from /proc/PID/stat) over the phase, divided by N, is its CPU cost per workflow.
# Release builds; server, workers and load generator share the machine's cores.
#
#   bench/run worker
#
# Environment: WORKER_N (5000) WORKER_C (200 in flight) WORKER_W (2 worker processes)
#              WORKER_SLOTS (64 attempts in flight per worker process) WORKER_CONNECTIONS (4)
#              WORKER_HANDOFF (1: completions take the next task in the same call; 0: poll for each)
#              WORKER_PERF (1: `perf record -g` the server during the worker phase, bench/out/worker/perf.data)
# Ends with: worker: N workflows/s, server X ms CPU/workflow, in-process Y ms, ratio R
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/worker
rm -rf "$out"; mkdir -p "$out"
N=${WORKER_N:-5000}
C=${WORKER_C:-200}
W=${WORKER_W:-2}
SLOTS=${WORKER_SLOTS:-64}
K=${WORKER_CONNECTIONS:-4}

echo "worker: building baton, baton-loadgen and baton-bench-worker (release, .build-release)" >&2
for product in baton baton-loadgen baton-bench-worker; do
  swift build -c release --product "$product" --scratch-path .build-release >&2
done
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
tick=$(getconf CLK_TCK)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# cpu_ms PID: the process's user+system CPU time so far, in milliseconds.
cpu_ms() { awk -v t="$tick" '{ print int(($14 + $15) * 1000 / t) }' "/proc/$1/stat"; }

# start_server DIR: starts a server on a free port; sets server_pid and port.
start_server() {
  "$bin/baton" server --listen 127.0.0.1:0 --data "$1" --durability full >"$1.log" 2>"$1.err" &
  server_pid=$!
  pids+=("$server_pid")
  port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$1.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$port" ] || { echo "worker: server did not start" >&2; exit 1; }
}

# phase MODE: runs the load in MODE against the current server; prints the loadgen output and sets
# rate and cpu (server CPU ms per workflow).
phase() {
  local before after
  before=$(cpu_ms "$server_pid")
  "$bin/baton-loadgen" --address "127.0.0.1:$port" --workflows "$N" --concurrency "$C" --connections "$K" \
    --mode "$1" | tee "$out/$1.txt" >&2
  after=$(cpu_ms "$server_pid")
  rate=$(sed -n "s/^$1: \([0-9][0-9]*\) workflows\/s.*/\1/p" "$out/$1.txt")
  cpu=$(awk -v a="$before" -v b="$after" -v n="$N" 'BEGIN { printf "%.3f", (b - a) / n }')
}

echo "worker: $(nproc) cores shared by the server, $W worker processes and the load generator" >&2
start_server "$out/inprocess"
phase inprocess
inprocess_rate=$rate; inprocess_cpu=$cpu
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true

start_server "$out/worker"
for i in $(seq 1 "$W"); do
  "$bin/baton-bench-worker" --address "127.0.0.1:$port" --concurrency "$SLOTS" --hand-off "${WORKER_HANDOFF:-1}" \
    2>"$out/worker-$i.err" &
  pids+=("$!")
done
if [ "${WORKER_PERF:-0}" = 1 ]; then
  perf record -g -F 999 -o "$out/perf.data" -p "$server_pid" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 0.5
fi
phase worker
if [ -n "${perf_pid:-}" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true; fi
echo "worker: in-process $inprocess_rate workflows/s, server $inprocess_cpu ms CPU/workflow" >&2
awk -v r="$rate" -v x="$cpu" -v y="$inprocess_cpu" -v n="$N" -v ir="$inprocess_rate" 'BEGIN {
  printf "worker: external throughput %.0f%% of in-process\n", 100 * r / ir > "/dev/stderr"
  printf "worker: %d workflows/s, server %.2f ms CPU/workflow, in-process %.2f ms, ratio %.2f\n", r, x, y, x / y
}'
