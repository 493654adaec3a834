#!/usr/bin/env bash
# devnet.sh N — start N local Cairn peers on loopback, bootstrapped in a
# chain (peer i joins through peer i-1), and print their shell addresses.
# Repos live under ${DEVNET_DIR:-/tmp/cairn-devnet}; Ctrl-C stops them all.
# mDNS is off: a devnet must not multicast onto the machine's network.
set -euo pipefail
n=${1:-3}
case "$n" in ''|*[!0-9]*) echo "usage: $0 N" >&2; exit 2;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${DEVNET_DIR:-/tmp/cairn-devnet}
mkdir -p "$dir"
bin="$dir/cairn"
(cd "$root" && go build -o "$bin" .)

pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait; }
trap cleanup EXIT INT TERM

prev=""
for i in $(seq 1 "$n"); do
  repo="$dir/peer$i"
  [ -f "$repo/identity.key" ] || "$bin" init --repo "$repo" >/dev/null
  args=(daemon --repo "$repo" --no-mdns --listen /ip4/127.0.0.1/tcp/0 --listen /ip4/127.0.0.1/udp/0/quic-v1 --shell 127.0.0.1:0 --gateway 127.0.0.1:0)
  [ -n "$prev" ] && args+=(--bootstrap "$prev")
  log="$dir/peer$i.log"
  "$bin" "${args[@]}" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q '^daemon is ready' "$log" && break; kill -0 "${pids[-1]}" 2>/dev/null || { cat "$log" >&2; exit 1; }; sleep 0.1; done
  grep -q '^daemon is ready' "$log" || { echo "peer$i did not start" >&2; cat "$log" >&2; exit 1; }
  prev=$(grep -m1 '^swarm listening on /ip4/127.0.0.1/tcp/' "$log" | sed 's/^swarm listening on //')
  shell=$(grep -m1 '^shell listening on ' "$log" | sed 's/^shell listening on //')
  gateway=$(grep -m1 '^gateway listening on ' "$log" | sed 's/^gateway listening on //')
  echo "peer$i  repo=$repo  shell=$shell  gateway=$gateway  swarm=$prev"
done
echo "devnet of $n peers running; Ctrl-C stops it. Try: $bin add --repo $dir/peer1 FILE; $bin cat --repo $dir/peer$n CID"
wait
