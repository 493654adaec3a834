package content

import (
	"errors"
	"slices"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
)

// block rm removes what no pin keeps, and refuses the rest one by one.
func TestRemoveBlocksRefusesPinned(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	pinned := importBytes(t, c, randomBytes(40<<10, 3), ImportOptions{CIDVersion: -1, Pin: true})
	loose := importBytes(t, c, randomBytes(1000, 4), ImportOptions{CIDVersion: -1})
	leaf := childOf(t, c, pinned.Cid)
	absent, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: 0x12, MhLength: -1}.Sum([]byte("never stored"))

	got := map[cid.Cid]error{}
	err := c.RemoveBlocks(ctx, []cid.Cid{pinned.Cid, leaf, loose.Cid, absent}, func(k cid.Cid, err error) error {
		got[k] = err
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(got[pinned.Cid], ErrPinned) || !errors.Is(got[leaf], ErrPinned) {
		t.Fatalf("pinned root %v, pinned leaf %v: want ErrPinned", got[pinned.Cid], got[leaf])
	}
	if got[loose.Cid] != nil || !ipld.IsNotFound(got[absent]) {
		t.Fatalf("loose %v, absent %v", got[loose.Cid], got[absent])
	}
	if has, _ := c.bstore.Has(ctx, loose.Cid); has {
		t.Fatal("the loose block is still there")
	}
	if has, _ := c.bstore.Has(ctx, leaf); !has {
		t.Fatal("a pinned block was removed")
	}
}

// childOf is the first link of a stored DAG node.
func childOf(t *testing.T, c *Content, k cid.Cid) cid.Cid {
	t.Helper()
	nd, err := c.dag.Get(testContext(t), k)
	if err != nil || len(nd.Links()) == 0 {
		t.Fatalf("%s: %v, %d links", k, err, len(nd.Links()))
	}
	return nd.Links()[0].Cid
}

// pin verify says which pins lack or have damaged blocks, and which.
func TestVerifyPinsFindsMissingAndDamagedBlocks(t *testing.T) {
	ds := NewMemoryDatastore()
	c := newTestContent(t, nil, nil, ds, smallChunks())
	ctx := testContext(t)
	whole := importBytes(t, c, randomBytes(40<<10, 5), ImportOptions{CIDVersion: -1, Pin: true})
	damaged := importBytes(t, c, randomBytes(40<<10, 6), ImportOptions{CIDVersion: -1, Pin: true})
	missing := importBytes(t, c, randomBytes(40<<10, 7), ImportOptions{CIDVersion: -1, Pin: true})

	bad1, bad2 := childOf(t, c, damaged.Cid), childOf(t, c, missing.Cid)
	if err := ds.Put(ctx, blockKey(bad1), []byte("not what was stored")); err != nil {
		t.Fatal(err)
	}
	if err := ds.Delete(ctx, blockKey(bad2)); err != nil {
		t.Fatal(err)
	}

	checks := map[cid.Cid][]cid.Cid{}
	err := c.VerifyPins(ctx, func(p PinCheck) error {
		for _, b := range p.Bad {
			checks[p.Cid] = append(checks[p.Cid], b.Cid)
		}
		if _, ok := checks[p.Cid]; !ok {
			checks[p.Cid] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 || checks[whole.Cid] != nil {
		t.Fatalf("checks %v", checks)
	}
	if !slices.Equal(checks[damaged.Cid], []cid.Cid{bad1}) || !slices.Equal(checks[missing.Cid], []cid.Cid{bad2}) {
		t.Fatalf("damaged %v (want %s), missing %v (want %s)", checks[damaged.Cid], bad1, checks[missing.Cid], bad2)
	}
}

// blockKey is where the store keeps a block's bytes.
func blockKey(k cid.Cid) datastore.Key {
	return datastore.NewKey(blocksPrefix).Child(dshelp.MultihashToDsKey(k.Hash()))
}
