package fastpath

import (
	"testing"

	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
)

// latticeDepth makes DAGs of 41 blocks and 2^40 paths.
const latticeDepth = 40

// TestFetchLattice: a peer serves a lattice (each node links twice to the
// one below), as a directory fetched whole (dag-scope=all) and as a file
// of 2^40 bytes fetched by range (dag-scope=entity). Both sides walk it
// in one step per distinct block: the fetch ends with the lattice's 41
// blocks stored, each received once. On main the server's walk and the
// fetcher's reader both went down every one of the 2^40 paths.
func TestFetchLattice(t *testing.T) {
	bs := newStore()
	dag := merkledag.NewDAGService(blockservice.New(bs, nil))
	ctx := testContext(t)
	dir, err := lattice.Dir(ctx, dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	file, err := lattice.File(ctx, dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	a := serve(t, bs)
	for name, fetch := range map[string]func(*fetcher) (*Job, cid.Cid, error){
		"dir": func(b *fetcher) (*Job, cid.Cid, error) {
			j, err := b.Fetch(ctx, dir, b.store)
			return j, dir, err
		},
		"file": func(b *fetcher) (*Job, cid.Cid, error) {
			j, err := b.FetchRange(ctx, file, 3, 1<<latticeDepth-5, b.store)
			return j, file, err
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := newFetcher(t, Options{})
			connect(t, b.h, a)
			j, root, err := fetch(b)
			if err != nil || j == nil {
				t.Fatalf("fetch: %v, %v", j, err)
			}
			select {
			case <-j.Ended():
			case <-ctx.Done():
				t.Fatal("fetch did not end")
			}
			j.Close()
			if err := j.Err(); err != nil {
				t.Fatalf("fetch: %v", err)
			}
			b.onlyGoodBlocks(t, bs)
			keys, err := b.bs.AllKeysChan(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n, size := 0, 0
			for k := range keys {
				n++
				s, _ := b.bs.GetSize(ctx, k)
				size += s
			}
			if n != latticeDepth+1 {
				t.Fatalf("%d blocks stored, want the lattice's %d", n, latticeDepth+1)
			}
			if got := j.Received()[a.ID()]; got != int64(size) {
				t.Fatalf("%d bytes received for %d bytes of blocks under %s: a block came twice, or one is missing", got, size, root)
			}
		})
	}
}
