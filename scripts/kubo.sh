#!/usr/bin/env bash
# kubo.sh — build Kubo v0.43.1 for interop tests and print the binary's path.
# Built in a scratch module outside Cairn's (Kubo never enters our go.mod)
# and cached: a second run reuses the binary. Kubo's go.mod replaces
# go-libp2p with a fork the module proxy refuses; v0.50.0 is the release
# that fork matched, so we pin it in the scratch module.
# The cache is ${KUBO_CACHE:-${XDG_CACHE_HOME:-~/.cache}/cairn-kubo}; a cold
# build takes about 2 minutes. Concurrent runs wait for one build.
set -euo pipefail
version=v0.43.1
cache=${KUBO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn-kubo}
bin="$cache/$version/ipfs"
usable() { [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; }
if usable; then
  echo "$bin"; exit 0
fi
mod="$cache/$version/src"
mkdir -p "$mod"
if command -v flock >/dev/null; then
  exec 9>"$cache/$version/.lock"
  flock 9
  if usable; then echo "$bin"; exit 0; fi # another run built it meanwhile
fi
cd "$mod"
[ -f go.mod ] || go mod init kubo-for-cairn-tests >/dev/null 2>&1
export GOFLAGS=-mod=mod
go get -tool "github.com/ipfs/kubo/cmd/ipfs@$version" >&2
go get github.com/libp2p/go-libp2p@v0.50.0 >&2
# Build beside the target and rename, so an interrupted build never
# leaves a half-written binary where the next run would find it.
go build -o "$bin.tmp" github.com/ipfs/kubo/cmd/ipfs >&2
mv -f "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
