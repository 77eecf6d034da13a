#!/usr/bin/env bash
# Live progress at scale (issue 11): STREAMS_SSE Server-Sent Events progress streams over HTTP/1.1 and
# STREAMS_CONNECT Connect server streams (StreamProgress, application/connect+json), spread over
# STREAMS_WORKFLOWS runs that advance one signal at a time, against a release `baton server`.
#
#   bench/run streams
#
# Environment: STREAMS_SSE (2000) STREAMS_CONNECT (200) STREAMS_WORKFLOWS (200) STREAMS_ROUNDS (8)
# Ends with: streams: N open, X KiB server memory per stream, commit-to-client p50 A ms p99 B ms
set -euo pipefail
cd "$(dirname "$0")/.."
echo "streams: building baton (release, .build-release)" >&2
swift build -c release --product baton --scratch-path .build-release >&2
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
exec python3 bench/streams.py "$bin/baton"
