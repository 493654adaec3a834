#!/usr/bin/env bash
# interop.sh — run Cairn's interoperability checks against a real Kubo
# (built on first use by scripts/kubo.sh) and print one line per check:
#   PASS <check>
#   FAIL <check> <reason>
# The checks are the Go tests in scripts/interop, which `go test ./...`
# also runs. Extra arguments go to `go test` (e.g. -run TestDHT).
# Exits non-zero if any check failed.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
go test -v -count=1 -timeout 15m "$@" ./scripts/interop/ >"$log" 2>&1
status=$?
# A check is a leaf test: a subtest, or a top-level test without subtests
# (or whose own setup or cleanup failed). Reasons are the first message
# logged under the failing check.
lines=$(awk '
  /^=== (RUN|CONT|NAME) / { cur = $3; next }
  /^ *--- (PASS|FAIL): / {
    name = $3; res = $2; sub(":", "", res)
    results[name] = res; order[++n] = name; next
  }
  /^ +[a-z_]+_test\.go:[0-9]+: / {
    if (!(cur in reason)) { r = $0; sub(/^ +[a-z_]+_test\.go:[0-9]+: /, "", r); reason[cur] = r }
  }
  END {
    for (i = 1; i <= n; i++) { name = order[i]; leaf[name] = 1 }
    for (i = 1; i <= n; i++) {
      name = order[i]
      for (j = 1; j <= n; j++) if (index(order[j], name "/") == 1) { delete leaf[name]; break }
    }
    for (i = 1; i <= n; i++) {
      name = order[i]
      if (!(name in leaf)) {
        # A parent that failed with every check under it passing failed on
        # its own (setup or cleanup): report it as a check too.
        if (results[name] != "FAIL") continue
        childFailed = 0
        for (j = 1; j <= n; j++) if (index(order[j], name "/") == 1 && results[order[j]] == "FAIL") childFailed = 1
        if (childFailed) continue
      }
      if (results[name] == "PASS") print "PASS " name
      else print "FAIL " name " " (name in reason ? reason[name] : "(see go test -v output)")
    }
  }' "$log")
[ -n "$lines" ] && echo "$lines"
if [ -z "$lines" ] || { [ "$status" -ne 0 ] && ! grep -q -- '--- FAIL' "$log"; }; then
  # No check ran, or the package failed outside any check (build error,
  # panic, timeout): that is a failure too, with the log's last words.
  echo "FAIL interop $(grep -v '^\s*$' "$log" | tail -3 | tr '\n' ' ')"
  exit 1
fi
exit "$status"
