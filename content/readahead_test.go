package content

import (
	"io"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// Opening a file starts fetching its leaves ahead of the reader: after
// reading one byte, every block of the file arrives in the store.
func TestReadAheadFetchesLeavesBeforeTheReaderAsks(t *testing.T) {
	ctx := testContext(t)
	routing := newFakeRouting()
	hA, hB := newHost(t), newHost(t)
	a := newTestContent(t, hA, routing.routerFor(hA), NewMemoryDatastore(), DefaultConfig())
	b := newTestContent(t, hB, routing.routerFor(hB), NewMemoryDatastore(), DefaultConfig())
	data := randomBytes(40<<16+5, 11) // 41 leaves of 64 KiB
	res := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 64 << 10, Pin: true})
	routing.waitAnnounced(t, res.Cid)

	nd, err := b.Node(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	f := nd.(files.File)
	defer f.Close()
	if _, err := io.ReadFull(f, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	root, err := a.dag.Get(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	var leaves []cid.Cid
	for _, l := range root.Links() {
		leaves = append(leaves, l.Cid)
	}
	deadline := time.Now().Add(testTimeout)
	for _, k := range leaves {
		for {
			has, err := b.bstore.Has(ctx, k)
			if err != nil {
				t.Fatal(err)
			}
			if has {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("leaf %s never arrived although the reader stopped after one byte", k)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
