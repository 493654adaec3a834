#!/usr/bin/env bash
# soak-replication.sh — 30 cairn daemons of one private network on this
# machine, files pinned with 3 copies, random kills (SIGKILL) and restarts
# for 10 minutes; every file is read whole from a random live daemon at
# every check. Writes live.png (live copies over time) and results.json
# (repair times, minimum live count, failed reads) to --out (soak-out/).
# Fails if any read failed.
#
#   scripts/soak-replication.sh [-duration 10m] [-peers 30] [-files 5] [-out DIR] [-seed N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/cairn" .
go run ./scripts/soak -cairn "$bin/cairn" "$@"
