// Package interop proves Cairn's interoperability with the IPFS ecosystem
// against software we did not write: a real Kubo v0.43.1 (built by
// scripts/kubo.sh into a cache outside Cairn's module) and the
// go-ipfs-api client. Every check is a test in this package, so `go test
// ./...` runs them all; scripts/interop.sh runs them alone and prints one
// line per check. A check that cannot run fails with the reason; none is
// skipped.
package interop
