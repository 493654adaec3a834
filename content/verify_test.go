package content

import (
	"slices"
	"testing"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
)

func TestVerifyFindsACorruptBlock(t *testing.T) {
	ds := NewMemoryDatastore()
	c := newTestContent(t, nil, nil, ds, smallChunks())
	ctx := testContext(t)
	file := importBytes(t, c, randomBytes(40<<10, 1), ImportOptions{CIDVersion: -1, Pin: true})
	clean, err := c.Verify(ctx, nil)
	if err != nil || len(clean.Corrupt) != 0 || clean.Checked == 0 {
		t.Fatalf("Verify on a sound repo: %+v, %v", clean, err)
	}

	// Overwrite the root's stored bytes, as a failing disk would.
	key := datastore.NewKey(blocksPrefix).Child(dshelp.MultihashToDsKey(file.Cid.Hash()))
	if err := ds.Put(ctx, key, []byte("not what was stored")); err != nil {
		t.Fatal(err)
	}
	var reported []cid.Cid
	res, err := c.Verify(ctx, func(k cid.Cid) error { reported = append(reported, k); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []cid.Cid{cid.NewCidV1(cid.Raw, file.Cid.Hash())}
	if !slices.Equal(res.Corrupt, want) || !slices.Equal(reported, want) {
		t.Fatalf("Verify found %v (reported %v), want %v", res.Corrupt, reported, want)
	}
	if res.Checked != clean.Checked {
		t.Fatalf("checked %d blocks, then %d", clean.Checked, res.Checked)
	}
}
