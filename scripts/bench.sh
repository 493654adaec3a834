#!/usr/bin/env bash
# bench.sh — measure Cairn against plain SHA-256, a bare go-libp2p stream
# and Kubo v0.43.1 on this machine (issue 6), and print a Markdown table.
# Results go to --out (default ./bench-out): results.json, results.md and
# chart.png. Kubo comes from scripts/kubo.sh (built on first use, about 2
# minutes) unless --no-kubo or $CAIRN_KUBO.
#
#   scripts/bench.sh [--size 1GiB] [--runs 3] [--no-kubo] [--smoke] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./scripts/bench "$@"
