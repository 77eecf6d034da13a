#!/usr/bin/env bash
# Runs a command with BATON_ADDRESS pointing at a Baton server: the one BATON_ADDRESS already names,
# or a fresh `baton server` on a loopback port (binary: BATON_BIN, default the repository's
# .build/debug/baton) with a temporary data directory, stopped when the command ends.
#
#   tests/with-server.sh build/tests/test_client
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: with-server.sh COMMAND [ARG...]" >&2
  exit 2
fi
if [ -n "${BATON_ADDRESS:-}" ]; then
  exec "$@"
fi

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${BATON_BIN:-$root/.build/debug/baton}
if [ ! -x "$bin" ]; then
  echo "with-server.sh: no server binary at $bin: set BATON_ADDRESS to a running server, or BATON_BIN" >&2
  exit 2
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/baton-c-tests.XXXXXX")
# The server's stdout comes through a pipe: its first line names the address (no polling).
exec 3< <(exec "$bin" server --listen 127.0.0.1:0 --data "$data/db" 2>"$data/stderr")
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

line=""
if ! IFS= read -r -t 30 line <&3 || [[ "$line" != "baton: listening on "* ]]; then
  echo "with-server.sh: $bin printed no listening line within 30s (got '$line'); stderr:" >&2
  cat "$data/stderr" >&2 || true
  exit 2
fi
cat <&3 >/dev/null &   # keep draining the server's stdout
export BATON_ADDRESS=${line#baton: listening on }
echo "with-server.sh: $bin listening on $BATON_ADDRESS" >&2
"$@"
