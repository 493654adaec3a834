package content

import (
	"context"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// FuzzGetDirectory decodes arbitrary dag-pb blocks as `get` and `ls` do:
// a root, and a child stored under both a dag-pb and a raw CID so that
// links can reach it. Opening the root, writing it as get's tar (into a
// bounded writer, as a client that stops reading) and listing it must
// end, with or without an error, never panic or hang.
func FuzzGetDirectory(f *testing.F) {
	ctx := context.Background()
	c, err := New(ctx, nil, nil, NewMemoryDatastore(), DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	dag := merkledag.NewDAGService(c.bserv)
	seed := func(root cid.Cid) {
		nd, err := dag.Get(ctx, root)
		if err != nil {
			f.Fatal(err)
		}
		child := []byte{}
		if ls := nd.Links(); len(ls) > 0 {
			if cn, err := dag.Get(ctx, ls[0].Cid); err == nil {
				child = cn.RawData()
			}
		}
		f.Add(nd.RawData(), child)
	}
	for _, build := range []func(context.Context, ipld.DAGService, int) (cid.Cid, error){lattice.Dir, lattice.File, lattice.HAMT} {
		root, err := build(ctx, dag, 2)
		if err != nil {
			f.Fatal(err)
		}
		seed(root)
	}
	link := merkledag.NodeWithData(must(unixfs.SymlinkData("../../etc/passwd")))
	f.Add(link.RawData(), []byte{})
	f.Fuzz(func(t *testing.T, root, child []byte) {
		for _, prefix := range []cid.Prefix{merkledag.V1CidPrefix(), {Version: 1, Codec: cid.Raw, MhType: 0x12, MhLength: -1}} {
			k, err := prefix.Sum(child)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := blocks.NewBlockWithCid(child, k)
			if err := c.bstore.Put(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
		k, err := merkledag.V1CidPrefix().Sum(root)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := blocks.NewBlockWithCid(root, k)
		if err := c.bstore.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if nd, err := c.Node(tctx, k); err == nil {
			if tw, err := files.NewTarWriter(&failAfter{n: 1 << 20}); err == nil {
				_ = tw.WriteFile(nd, "root")
			}
			nd.Close()
		}
		_, _, _ = c.List(tctx, k)
		if tctx.Err() != nil {
			t.Fatalf("get or ls of the block ran 20 s")
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
