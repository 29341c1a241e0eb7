#!/usr/bin/env bash
# Runs the benchmark on authlake and DuckDB side by side, on the same events and threads, and
# prints the ratios; every answer is cross-checked. Example:
#   bench/run-peer.sh --events 10000000 --out bench/results/10m.json --svg bench/results/10m.svg
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/authlake bench --peer duckdb --peer-dir bench/peer "$@"
