#!/usr/bin/env bash
# Hostile load (issue 19): Rapid Reset, clients that never read GetHistory pages, clients that never
# read large descriptions, against a release `baton server` on a fresh SQLite file, while a
# well-behaved grpcio client is measured. See bench/abuse.py for the cases and their sizes.
#
#   bench/run abuse
#
# Environment: ABUSE_PHASES ("rapid-reset no-read big-describe") ABUSE_RESET_TRIPLES (54000) ABUSE_RESET_CLIENTS (2) ABUSE_HOLD_CONNECTIONS (1000)
#   ABUSE_HOLD_STREAMS (10) ABUSE_BIG_CONNECTIONS (50) ABUSE_BIG_STREAMS (2)
# Ends with: abuse: well-behaved p99 X ms during the attacks (worst phase), Y ms after, ...
set -euo pipefail
cd "$(dirname "$0")/.."
echo "abuse: building baton (release, .build-release)" >&2
swift build -c release --product baton --scratch-path .build-release >&2
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
exec python3 bench/abuse.py "$bin/baton"
