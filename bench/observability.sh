#!/usr/bin/env bash
# What logs, metrics and traces cost: the engine benchmark (in-process, as `bench/run engine`) and
# the API benchmark (`baton server` + baton-loadgen, as `bench/run api`), each with everything off
# (no log lines, no trace export) and on (json log lines at info, traces exported to a local OTLP
# receiver, bench/otlp_sink.py), alternating, RUNS times each; metrics are always on (they are not
# optional). Release builds in .build-release.
#
#   bench/run observability
#
# Environment: OBS_RUNS (3) OBS_KINDS ("engine api") OBS_ENGINE_N (20000) OBS_API_N (10000) API_C (200)
# API_CONNECTIONS (4)
# Ends with: `observability: engine off X wf/s, on Y wf/s (cost C%)` and the same for api; for the
# engine also `observability: engine cpu off X µs, on Y µs per workflow (cost C%)`: the CPU every
# thread of the process spent per run, which the machine's drifting speed disturbs less than rates.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/observability
rm -rf "$out"; mkdir -p "$out"
runs=${OBS_RUNS:-3}
engine_n=${OBS_ENGINE_N:-20000}
api_n=${OBS_API_N:-10000}

echo "observability: building baton, baton-bench and baton-loadgen (release, .build-release)" >&2
for product in baton baton-bench baton-loadgen; do
  swift build -c release --product "$product" --scratch-path .build-release >&2
done
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)

python3 bench/otlp_sink.py >"$out/sink.port" 2>"$out/sink.err" &
sink=$!
server=""
cleanup() {
  [ -n "$server" ] && { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  kill -TERM "$sink" 2>/dev/null || true; wait "$sink" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do [ -s "$out/sink.port" ] && break; sleep 0.1; done
endpoint="http://127.0.0.1:$(head -1 "$out/sink.port")"

engine() {  # engine MODE RUN -> workflows/s
  local args=(engine --workflows "$engine_n" --concurrency 1000 --shards "$(nproc)" --durability full)
  [ "$1" = on ] && args+=(--observe on --otlp-endpoint "$endpoint")
  "$bin/baton-bench" "${args[@]}" >"$out/engine-$1-$2.out" 2>"$out/engine-$1-$2.log"
  sed -n 's/^workflows\/s: *\([0-9]*\).*/\1/p' "$out/engine-$1-$2.out"
}

api() {  # api MODE RUN -> workflows/s
  local args=(server --listen 127.0.0.1:0 --data "$out/api-$1-$2" --durability full)
  if [ "$1" = on ]; then args+=(--log-format json --log-level info --otlp-endpoint "$endpoint")
  else args+=(--log-format json --log-level critical); fi
  "$bin/baton" "${args[@]}" >"$out/server-$1-$2.out" 2>"$out/server-$1-$2.log" &
  server=$!
  local port=""
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$out/server-$1-$2.out" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "observability: server did not start" >&2; exit 1; }
  "$bin/baton-loadgen" --address "127.0.0.1:$port" --workflows "$api_n" --concurrency "${API_C:-200}" \
    --connections "${API_CONNECTIONS:-4}" >"$out/loadgen-$1-$2.out"
  kill -TERM "$server"; wait "$server" || true; server=""
  sed -n 's/.*: \([0-9]*\) workflows\/s.*/\1/p' "$out/loadgen-$1-$2.out" | tail -1
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

kinds=${OBS_KINDS:-engine api}
for kind in $kinds; do
  : >"$out/$kind-off"; : >"$out/$kind-on"
  for run in $(seq 1 "$runs"); do
    for mode in off on; do
      rate=$($kind "$mode" "$run")
      [ -n "$rate" ] || { echo "observability: $kind $mode run $run gave no rate; see $out" >&2; exit 1; }
      echo "observability: $kind $mode run $run: $rate workflows/s" >&2
      echo "$rate" >>"$out/$kind-$mode"
    done
  done
done
lines=$( (cat "$out"/server-on-*.log "$out"/engine-on-*.log 2>/dev/null || true) | wc -l)
kill -TERM "$sink"; wait "$sink" 2>/dev/null || true
cat "$out/sink.err" >&2
echo "observability: $(nproc) cores shared by the benchmark, the server and the receiver; $lines json log lines written while on" >&2
for kind in $kinds; do
  off=$(median <"$out/$kind-off"); on=$(median <"$out/$kind-on")
  awk -v k="$kind" -v off="$off" -v on="$on" \
    'BEGIN { printf "observability: %s off %d wf/s, on %d wf/s (cost %.1f%%)\n", k, off, on, (off - on) * 100 / off }'
done
if [[ " $kinds " == *" engine "* ]]; then
  cpu() { sed -n 's/^cpu: *\([0-9]*\) .*/\1/p' "$out"/engine-"$1"-*.out | median; }
  off=$(cpu off); on=$(cpu on)
  awk -v off="$off" -v on="$on" \
    'BEGIN { printf "observability: engine cpu off %d µs, on %d µs per workflow (cost %.1f%%)\n", off, on, (on - off) * 100 / on }'
fi

