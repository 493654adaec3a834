package fastpath

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
)

// TestFetchToAFile: a file held by two peers is written to an open file at
// its offsets as blocks arrive, with buffers reused, and stored. The store
// copies each block as a real one does; had a buffer been reused while
// the store still needed it, a stored block would not hash to its CID.
func TestFetchToAFile(t *testing.T) {
	cases := []struct {
		size int
		raw  bool // raw leaves, else dag-pb ones
	}{{0, true}, {1000, true}, {256 << 10, true}, {9<<20 + 777, true}, {3<<20 + 5, false}}
	for _, tc := range cases {
		size := tc.size
		f := newFileLeaves(t, size, 14, tc.raw)
		b := newFetcher(t, Options{JoinGrace: 5 * time.Second})
		connect(t, b.h, serve(t, f.bs), serve(t, f.bs))
		out, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		copying := func(ctx context.Context, blk blocks.Block) error {
			cp, _ := blocks.NewBlockWithCid(bytes.Clone(blk.RawData()), blk.Cid())
			return b.bs.Put(ctx, cp)
		}
		ctx := testContext(t)
		j, err := b.FetchTo(ctx, f.root, out, copying, true)
		if err != nil || j == nil {
			t.Fatalf("FetchTo: %v, %v", j, err)
		}
		select {
		case <-j.Ended():
		case <-ctx.Done():
			t.Fatal("fetch did not end")
		}
		j.Close()
		if err := j.Err(); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if j.Size() != int64(size) {
			t.Fatalf("job size %d, want %d", j.Size(), size)
		}
		got, err := os.ReadFile(out.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.data) {
			t.Fatalf("%d bytes: the file has %d bytes, differing", size, len(got))
		}
		if _, ok := j.Block(f.root); ok {
			t.Fatal("a FetchTo job kept blocks for readers")
		}
		b.onlyGoodBlocks(t, f.bs)
		if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
			t.Fatalf("%d bytes: the store does not hold the file", size)
		}
	}
}
