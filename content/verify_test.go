package content

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
	clean, err := c.Verify(ctx, false, nil)
	if err != nil || len(clean.Damaged) != 0 || clean.Checked == 0 {
		t.Fatalf("Verify on a sound repo: %+v, %v", clean, err)
	}

	// Overwrite the root's stored bytes, as a failing disk would.
	key := datastore.NewKey(blocksPrefix).Child(dshelp.MultihashToDsKey(file.Cid.Hash()))
	if err := ds.Put(ctx, key, []byte("not what was stored")); err != nil {
		t.Fatal(err)
	}
	var reported []cid.Cid
	res, err := c.Verify(ctx, false, func(d DamagedBlock) error { reported = append(reported, d.Cid); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []cid.Cid{cid.NewCidV1(cid.Raw, file.Cid.Hash())}
	if !slices.Equal(res.Damaged, want) || !slices.Equal(reported, want) {
		t.Fatalf("Verify found %v (reported %v), want %v", res.Damaged, reported, want)
	}
	if res.Checked != clean.Checked {
		t.Fatalf("checked %d blocks, then %d", clean.Checked, res.Checked)
	}
}

// A bit flipped in a pack file on disk, behind the store's back, is found
// by Verify and refused by a read.
func TestVerifyFindsABitFlippedInAPack(t *testing.T) {
	dir := t.TempDir()
	data := randomBytes(40<<10, 2)
	ctx := testContext(t)
	ds, err := OpenDatastore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	// Closed here, before the datastore, not at cleanup.
	c, err := New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatal(err)
	}
	importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}

	// The file's first bytes are its first leaf's: flip one of them.
	packs, err := filepath.Glob(filepath.Join(dir, packsDir, "*.pack"))
	if err != nil || len(packs) == 0 {
		t.Fatalf("no pack files (%v)", err)
	}
	flipped := false
	for _, p := range packs {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(raw, data[:64]); i >= 0 {
			raw[i+10] ^= 0x20
			if err := os.WriteFile(p, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			flipped = true
		}
	}
	if !flipped {
		t.Fatal("the file's first leaf is in no pack")
	}

	ds, err = OpenDatastore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	c = newTestContent(t, nil, nil, ds, smallChunks())
	res, err := c.Verify(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Damaged) != 1 {
		t.Fatalf("Verify found %d damaged blocks, want the 1 flipped", len(res.Damaged))
	}
	if _, err := c.bstore.Get(ctx, res.Damaged[0]); !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("reading the flipped block: %v, want a hash mismatch", err)
	}
}
