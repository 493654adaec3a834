package fastpath

import (
	"context"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

// BenchmarkFetchSmall is the time to fetch a 1 KiB file (its root block)
// from a connected peer: the fast path's share of time to first byte.
func BenchmarkFetchSmall(b *testing.B) {
	f := newFile(b, 1<<10, 7)
	a := serve(b, f.bs)
	for b.Loop() {
		b.StopTimer()
		r := newFetcher(b, Options{})
		connect(b, r.h, a)
		b.StartTimer()
		j, err := r.Fetch(b.Context(), f.root, r.store)
		if err != nil || j == nil {
			b.Fatalf("fetch: %v", err)
		}
		j.Close()
	}
}

// BenchmarkFetchSmallKnownPeer is BenchmarkFetchSmall once the peer's
// protocol list is known.
func BenchmarkFetchSmallKnownPeer(b *testing.B) {
	f := newFile(b, 1<<10, 7)
	a := serve(b, f.bs)
	r := newFetcher(b, Options{})
	connect(b, r.h, a)
	if _, err := r.client.gatewayPrefix(b.Context(), a.ID()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		j, err := r.Fetch(b.Context(), f.root, func(context.Context, blocks.Block) error { return nil })
		if err != nil || j == nil {
			b.Fatalf("fetch: %v", err)
		}
		j.Close()
	}
}
