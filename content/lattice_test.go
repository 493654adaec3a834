package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
)

// latticeDepth makes DAGs of 41 blocks and 2^40 paths: a walk that goes
// down every path would not end within the test's life.
const latticeDepth = 40

// latticeContent is an offline Content holding a lattice directory and a
// lattice file.
func latticeContent(t *testing.T) (c *Content, dir, file cid.Cid) {
	t.Helper()
	c = newOffline(t, DefaultConfig())
	ctx := testContext(t)
	var err error
	if dir, err = lattice.Dir(ctx, c.dag, latticeDepth); err != nil {
		t.Fatal(err)
	}
	if file, err = lattice.File(ctx, c.dag, latticeDepth); err != nil {
		t.Fatal(err)
	}
	return c, dir, file
}

// TestWalksOfALattice: every walk over a DAG that shares subtrees visits
// each distinct block once: dag export writes the lattice's 41 blocks, a
// recursive pin and GC's mark over it finish (keeping all of it), ls
// lists the top's two entries, and the read-ahead of a lattice file (2^40
// bytes in 41 blocks) ends. On main the read-ahead went down every path.
func TestWalksOfALattice(t *testing.T) {
	c, dir, file := latticeContent(t)
	ctx := testContext(t)

	var buf bytes.Buffer
	if err := c.ExportCAR(ctx, dir, &buf); err != nil {
		t.Fatalf("export: %v", err)
	}
	br, err := car.NewBlockReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		if _, err := br.Next(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if n != latticeDepth+1 {
		t.Fatalf("export wrote %d blocks, want the lattice's %d", n, latticeDepth+1)
	}

	for _, root := range []cid.Cid{dir, file} {
		if err := c.Pin(ctx, root, true); err != nil {
			t.Fatalf("pin %s: %v", root, err)
		}
	}
	if removed, err := c.GC(ctx, GCEvents{}); err != nil || removed != 0 {
		t.Fatalf("GC removed %d blocks (%v), want none: both lattices are pinned", removed, err)
	}

	entries, isDir, err := c.List(ctx, dir)
	if err != nil || !isDir || len(entries) != 2 {
		t.Fatalf("ls: %d entries, dir %v, %v; want a and b", len(entries), isDir, err)
	}

	nd, err := c.dag.Get(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	c.readAhead(ctx, nd)
	if err := ctx.Err(); err != nil {
		t.Fatalf("the read-ahead of the lattice file ran until the test's deadline: %v", err)
	}
}

// cancelOnWrite cancels a context at its first write, then takes writes.
type cancelOnWrite struct {
	cancel context.CancelFunc
	n      int
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.cancel()
	w.n += len(p)
	return len(p), nil
}

// TestExportCARStopsWithItsContext: an export whose caller has gone stops
// at the next block, though the store's reads do not look at the
// context.
func TestExportCARStopsWithItsContext(t *testing.T) {
	c, dir, _ := latticeContent(t)
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	err := c.ExportCAR(ctx, dir, &cancelOnWrite{cancel: cancel})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("export: %v, want context.Canceled", err)
	}
}

// failAfter takes n bytes, then fails every write: a client that left.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errors.New("client gone")
	}
	w.n -= len(p)
	return len(p), nil
}

// TestGetOfALatticeStopsWhenItsClientLeaves: `get` of a lattice directory
// is a tar of 2^40 entries, as in Kubo: its cost is its length, which only
// its client bounds. Once the client stops taking bytes, the walk stops.
func TestGetOfALatticeStopsWhenItsClientLeaves(t *testing.T) {
	c, dir, _ := latticeContent(t)
	ctx := testContext(t)
	nd, err := c.Node(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	tw, err := files.NewTarWriter(&failAfter{n: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteFile(nd, dir.String()); err == nil {
		t.Fatal("the tar of 2^40 entries was written whole into 1 MiB")
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("the tar walk ran until the test's deadline: %v", err)
	}
}

// TestListRefusesAHAMTWithASharedShard: ls of a HAMT directory whose
// shards each link twice to the one below (2^40 entries named "x" in 41
// blocks) fails at once, naming the shard met twice. On main boxo's walk
// loaded a shard once per path, holding every entry in memory.
func TestListRefusesAHAMTWithASharedShard(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	ctx := testContext(t)
	root, err := lattice.HAMT(ctx, c.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	entries, isDir, err := c.List(ctx, root)
	if err == nil || !isDir || !strings.Contains(err.Error(), "appears twice") {
		t.Fatalf("ls listed %d entries (dir %v, err %v); want the shard met twice refused", len(entries), isDir, err)
	}
}
