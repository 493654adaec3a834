#!/usr/bin/env bash
# crashloop.sh — crash a Cairn daemon again and again and check that what
# it said was added survives. Each round: adds (pinned, and unpinned ones
# for garbage), unpins, `repo gc` (which compacts the packs) run against
# the daemon, which is killed with SIGKILL at a random moment; then the
# daemon is restarted, `repo verify` must pass, `repo stat` must count the
# blocks verify read, and every add that had returned (pinned, not since
# unpinned) must read back byte for byte. A round that finds any of that
# broken counts as damaged.
#
# Usage: scripts/crashloop.sh [--rounds N] [--bin PATH] [--dir DIR] [--max-kib K]
#   --rounds   rounds to run (default 50)
#   --bin      the cairn binary (default: built from this checkout)
#   --dir      where the repo and logs live (default: a new temporary dir)
#   --max-kib  largest file added, in KiB (default 4096)
# Prints one line per round and, last, "crashloop: N rounds, D with damage".
# Exit status 0 when no round found damage, 1 otherwise, 2 on bad usage.
set -euo pipefail

rounds=50 bin="" dir="" maxkib=4096
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2;;
    --bin) bin=$2; shift 2;;
    --dir) dir=$2; shift 2;;
    --max-kib) maxkib=$2; shift 2;;
    *) echo "usage: $0 [--rounds N] [--bin PATH] [--dir DIR] [--max-kib K]" >&2; exit 2;;
  esac
done
case "$rounds$maxkib" in ''|*[!0-9]*) echo "$0: --rounds and --max-kib take numbers" >&2; exit 2;; esac
root=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$dir" ] || dir=$(mktemp -d /tmp/cairn-crashloop.XXXXXX)
mkdir -p "$dir"
if [ -z "$bin" ]; then
  bin="$dir/cairn"
  (cd "$root" && go build -o "$bin" .)
fi
repo="$dir/repo" work="$dir/work" log=""
mkdir -p "$work"
done_list="$dir/added"    # "<cid> <sha256>" per add that returned, pinned
forgotten="$dir/unpinned" # CIDs unpinned since (listed before the unpin)
: >"$done_list"
: >"$forgotten"
rm -rf "$repo"
"$bin" init --repo "$repo" >/dev/null
cat >"$repo/config.yaml" <<'EOF'
swarm:
  listen: [/ip4/127.0.0.1/tcp/0]
discovery:
  mdns: false
  bootstrap: []
reachability:
  port_mapping: false
shell:
  address: 127.0.0.1:0
EOF

daemon=""
workers=()
cleanup() {
  for p in "${workers[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "$daemon" ] && kill -TERM "$daemon" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

start_daemon() {
  log="$dir/daemon.$1.log"
  "$bin" daemon --repo "$repo" >"$log" 2>&1 &
  daemon=$!
  for _ in $(seq 1 600); do
    grep -q '^daemon is ready' "$log" && return 0
    kill -0 "$daemon" 2>/dev/null || break
    sleep 0.1
  done
  echo "crashloop: the daemon did not start:" >&2
  cat "$log" >&2
  exit 1
}

# rnd N: a random number in [0, N).
rnd() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }

# adder ID: adds files until killed; pinned adds that return are listed.
adder() {
  local id=$1 i=0 f cid sum pin
  while :; do
    i=$((i + 1))
    f="$work/a$id.$i"
    head -c $(( $(rnd $((maxkib * 1024))) + 1 )) /dev/urandom >"$f"
    pin=true
    [ "$(rnd 4)" = 0 ] && pin=false
    if cid=$("$bin" add --repo "$repo" -Q --pin="$pin" "$f" 2>>"$dir/add.err"); then
      sum=$(sha256sum <"$f" | cut -d' ' -f1)
      [ "$pin" = true ] && echo "$cid $sum" >>"$done_list"
    fi
    rm -f "$f"
  done
}

# collector: now and then unpins a listed add (listing it as unpinned
# first, so a kill during the unpin does not count it) and collects.
collector() {
  local cid n
  while :; do
    n=$(wc -l <"$done_list")
    if [ "$n" -gt 3 ] && [ "$(rnd 2)" = 0 ]; then
      cid=$(sed -n "$(( $(rnd "$n") + 1 ))p" "$done_list" | cut -d' ' -f1)
      echo "$cid" >>"$forgotten"
      "$bin" pin rm --repo "$repo" "$cid" >/dev/null 2>&1 || true
    fi
    "$bin" repo gc --repo "$repo" -q >/dev/null 2>&1 || true
  done
}

# client CMD...: runs a client command, trying again a few times while it
# cannot reach the daemon (a busy machine can run out of loopback ports).
client() {
  local out try
  for try in 1 2 3 4 5; do
    if out=$("$bin" "$@" --repo "$repo" 2>&1); then
      echo "$out"
      return 0
    fi
    case "$out" in *"cannot reach"*) sleep 1;; *) break;; esac
  done
  echo "$out"
  return 1
}

# check: after a restart, collect (so that the counts move on from the
# recount of the start), verify the repo and read back every add.
check() {
  local out stat objects checked cid sum got bad=0
  if ! out=$(client repo gc -q); then
    echo "  repo gc: $out"
    bad=1
  fi
  if ! out=$(client repo verify); then
    echo "  repo verify: $out"
    bad=1
  fi
  checked=$(echo "$out" | sed -n 's/.*all \([0-9]*\) blocks validated.*/\1/p')
  stat=$(client repo stat)
  objects=$(echo "$stat" | sed -n 's/^NumObjects: *//p')
  if [ -n "$checked" ] && [ "$objects" != "$checked" ]; then
    echo "  repo stat counts $objects blocks, verify read $checked"
    bad=1
  fi
  while read -r cid sum; do
    grep -qx "$cid" "$forgotten" && continue
    for _ in 1 2 3; do
      got=$(timeout 60 "$bin" cat --repo "$repo" --timeout 30s "$cid" 2>/dev/null | sha256sum | cut -d' ' -f1) || true
      [ "$got" = "$sum" ] && break
      sleep 1 # a refused connection on a busy machine, or damage: damage stays
    done
    if [ "$got" != "$sum" ]; then
      echo "  $cid, added before the kill, does not read back"
      bad=1
    fi
  done <"$done_list"
  return $bad
}

start_daemon 0
damaged=0
for round in $(seq 1 "$rounds"); do
  workers=()
  adder 1 & workers+=($!)
  adder 2 & workers+=($!)
  collector & workers+=($!)
  sleep "$(rnd 3).$(rnd 10)"
  kill -KILL "$daemon"
  wait "$daemon" 2>/dev/null || true
  for p in "${workers[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${workers[@]}"; do wait "$p" 2>/dev/null || true; done
  workers=()
  rm -f "$work"/*
  start_daemon "$round"
  if check; then
    result=ok
  else
    result=DAMAGED
    damaged=$((damaged + 1))
  fi
  echo "round $round: $(grep -cvxFf "$forgotten" <(cut -d' ' -f1 "$done_list") || true) adds to check, $result"
done
echo "crashloop: $rounds rounds, $damaged with damage"
[ "$damaged" = 0 ]
