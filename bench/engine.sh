#!/usr/bin/env bash
# Engine benchmark: N three-step workflows (A → B, A → C, builtin.echo), in-process, against a
# temporary SQLite file with synchronous=FULL, release build; then the storage ceiling: the same rows,
# batches and durability written by a minimal writer with no engine logic. Ends with
# `engine: N workflows/s, storage ceiling M workflows/s, ratio R`.
#
# Knobs: ENGINE_WORKFLOWS (default 50000), ENGINE_CONCURRENCY (1000), ENGINE_SHARDS (CPU count),
#        ENGINE_DURABILITY (full|normal, default full).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scratch=.build-bench
if ! swift build -c release --product baton-bench --scratch-path "$scratch" >&2; then
  echo "engine.sh: full-package build failed; retrying with BATON_ENGINE_ONLY=1" >&2
  BATON_ENGINE_ONLY=1 swift build -c release --product baton-bench --scratch-path "$scratch" >&2
fi
bin=$(swift build -c release --product baton-bench --scratch-path "$scratch" --show-bin-path 2>/dev/null || true)
[ -x "$bin/baton-bench" ] || bin="$scratch/release"
exec "$bin/baton-bench" engine \
  --workflows "${ENGINE_WORKFLOWS:-50000}" \
  --concurrency "${ENGINE_CONCURRENCY:-1000}" \
  --shards "${ENGINE_SHARDS:-$(nproc)}" \
  --durability "${ENGINE_DURABILITY:-full}"
