package content

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/p2ptest"
	"github.com/ipfs/boxo/files"
)

// TestReadNamesTheMissingBlock: a provider holds all of a file but one
// leaf. A read of the file on a connected peer fails when its context
// ends, and the error names that leaf, not only the root.
func TestReadNamesTheMissingBlock(t *testing.T) {
	ctx := testContext(t)
	data := randomBytes(1<<20, 31)
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), DefaultConfig())
	res := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
	root, err := a.dag.Get(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Links()) != 4 {
		t.Fatalf("%d leaves, want 4", len(root.Links()))
	}
	lost := root.Links()[2].Cid
	if err := a.bstore.DeleteBlock(ctx, lost); err != nil {
		t.Fatal(err)
	}
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	p2ptest.ConnectIdentified(t, hB, hA)

	// Waiting for the leaf that nobody has ends with the context; its
	// length does not matter to what is checked.
	readCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	nd, err := b.Node(readCtx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	n, err := io.Copy(io.Discard, nd.(files.File))
	var missing *MissingBlockError
	if !errors.As(err, &missing) {
		t.Fatalf("read %d bytes, then %v; want a MissingBlockError", n, err)
	}
	if !missing.Cid.Equals(lost) {
		t.Fatalf("error names %s, want the lost leaf %s", missing.Cid, lost)
	}
	if n != 2*256<<10 {
		t.Fatalf("read %d bytes before the error, want the %d before the lost leaf", n, 2*256<<10)
	}
}
