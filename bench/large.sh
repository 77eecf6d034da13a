#!/usr/bin/env bash
# Large-run benchmark (issue 18): one 10,000-step run with builtin.echo steps, as a chain
# (s0 → s1 → …) and as a flat set, in-process against a temporary SQLite file (synchronous=FULL),
# release build. Prints, per shape, registration and run time, peak RSS and bytes written.
#
# Knobs: LARGE_STEPS (default 10000), LARGE_SHAPES (default "chain flat").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
scratch=.build-bench
swift build -c release --product baton-bench --scratch-path "$scratch" >&2
bin=$(swift build -c release --product baton-bench --scratch-path "$scratch" --show-bin-path)
for shape in ${LARGE_SHAPES:-chain flat}; do
  # Each shape in its own process, so peak RSS and bytes written are its own.
  "$bin/baton-bench" large --steps "${LARGE_STEPS:-10000}" --shape "$shape"
done
