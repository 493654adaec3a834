package content

import (
	"bytes"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
)

// TestTwoPeersFetch: peer B, not connected to A, finds A through the router
// as the provider of a file A imported, and fetches it over Bitswap.
func TestTwoPeersFetch(t *testing.T) {
	ctx := testContext(t)
	routing := newFakeRouting()
	hA, hB := newHost(t), newHost(t)
	// Bitswap alone: with the fast path, B would fetch from A over it.
	cfg := DefaultConfig()
	cfg.FastPath = false
	a := newTestContent(t, hA, routing.routerFor(hA), NewMemoryDatastore(), cfg)
	b := newTestContent(t, hB, routing.routerFor(hB), NewMemoryDatastore(), cfg)

	// Read through Node: streamed, many blocks.
	data := randomBytes(5<<20+99, 7)
	res := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10, Pin: true})
	routing.waitAnnounced(t, res.Cid)
	nd, err := b.Node(ctx, res.Cid)
	if err != nil {
		t.Fatalf("B opens A's file: %v", err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, data) {
		t.Fatalf("B read %d bytes, differing from A's %d", len(got), len(data))
	}
	if len(hB.Network().ConnsToPeer(hA.ID())) == 0 {
		t.Fatal("B is not connected to A after fetching from it")
	}

	// Pin fetches the whole DAG: afterwards B has every block locally.
	data2 := randomBytes(3<<20, 8)
	res2 := importBytes(t, a, data2, ImportOptions{CIDVersion: -1, ChunkSize: 128 << 10})
	routing.waitAnnounced(t, res2.Cid)
	if err := b.Pin(ctx, res2.Cid, true); err != nil {
		t.Fatalf("B pins A's file: %v", err)
	}
	offline := merkledag.NewDAGService(blockservice.New(b.bstore, nil))
	if err := merkledag.FetchGraph(ctx, res2.Cid, offline); err != nil {
		t.Fatalf("B's store misses part of the pinned DAG: %v", err)
	}
	// B announces what it pinned, so it is now a second provider.
	routing.waitAnnounced(t, res2.Cid)
	if got := len(routing.routerFor(hB).FindProvidersAsync(ctx, res2.Cid, 0)); got != 2 {
		t.Fatalf("%d providers of the pinned file, want A and B", got)
	}
}
