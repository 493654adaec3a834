package content

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	mh "github.com/multiformats/go-multihash"
)

func rawCID(t *testing.T, data []byte) cid.Cid {
	t.Helper()
	k, err := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// forged is a block that claims the CID of other bytes.
func forged(t *testing.T, claimed, actual []byte) blocks.Block {
	t.Helper()
	b, err := blocks.NewBlockWithCid(actual, rawCID(t, claimed))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantMismatch(t *testing.T, err error, k cid.Cid) {
	t.Helper()
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want ErrHashMismatch", err)
	}
	if want := "block " + k.String() + ": hash mismatch"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestBlockstoreRejectsForgedPut(t *testing.T) {
	ctx := testContext(t)
	bs := newBlockstore(NewMemoryDatastore())
	bad := forged(t, []byte("what the CID says"), []byte("what the bytes are"))

	wantMismatch(t, bs.Put(ctx, bad), bad.Cid())
	if has, err := bs.Has(ctx, bad.Cid()); err != nil || has {
		t.Fatalf("after rejected Put: Has = %v, %v; want false", has, err)
	}

	good := blocks.NewBlock([]byte("honest"))
	wantMismatch(t, bs.PutMany(ctx, []blocks.Block{good, bad}), bad.Cid())
	for _, b := range []blocks.Block{good, bad} {
		if has, err := bs.Has(ctx, b.Cid()); err != nil || has {
			t.Fatalf("after rejected PutMany: Has(%s) = %v, %v; want nothing stored", b.Cid(), has, err)
		}
	}
	if err := bs.PutMany(ctx, []blocks.Block{good}); err != nil {
		t.Fatalf("PutMany(good): %v", err)
	}
}

func TestBlockstoreRejectsCorruptedGet(t *testing.T) {
	ctx := testContext(t)
	ds := NewMemoryDatastore()
	bs := newBlockstore(ds)
	b := blocks.NewBlock([]byte("original bytes"))
	if err := bs.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Rot the stored bytes behind the blockstore's back.
	key := blockstore.BlockPrefix.Child(dshelp.MultihashToDsKey(b.Cid().Hash()))
	if err := ds.Put(ctx, key, []byte("rotten bytes")); err != nil {
		t.Fatal(err)
	}
	_, err := bs.Get(ctx, b.Cid())
	if !errors.Is(err, ErrHashMismatch) || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), b.Cid().String()) {
		t.Fatalf("Get of a rotten block: %v, want a damaged-block error naming it", err)
	}

	// And through the public API, which serves peers the same way.
	c := newTestContent(t, nil, nil, ds, DefaultConfig())
	_, err = c.GetBlock(ctx, b.Cid())
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("GetBlock of a corrupted block: err = %v, want ErrHashMismatch", err)
	}
}

func TestBlockstoreIdentityNeverStored(t *testing.T) {
	ctx := testContext(t)
	ds := NewMemoryDatastore()
	c := newTestContent(t, nil, nil, ds, DefaultConfig())
	k, err := c.PutBlock(ctx, []byte("inline"), "raw", "identity", -1, false)
	if err != nil {
		t.Fatalf("PutBlock identity: %v", err)
	}
	if n := countKeys(t, ds, "/blocks"); n != 0 {
		t.Fatalf("identity block written to the datastore: %d keys under /blocks", n)
	}
	b, err := c.GetBlock(ctx, k)
	if err != nil || string(b.RawData()) != "inline" {
		t.Fatalf("GetBlock(identity) = %v, %v", b, err)
	}
}

func TestPutBlockCID(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	data := []byte("hello world")
	k, err := c.PutBlock(ctx, data, "", "", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	// Kubo's block put default (raw, sha2-256, CIDv1), and the same as a
	// one-chunk unixfs-v1-2025 file.
	if want := "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"; k.String() != want {
		t.Fatalf("PutBlock CID = %s, want %s", k, want)
	}
	k, err = c.PutBlock(ctx, data, "dag-cbor", "sha2-512", -1, true)
	if err != nil {
		t.Fatal(err)
	}
	if p := k.Prefix(); p.Codec != cid.DagCBOR || p.MhType != mh.SHA2_512 || p.Version != 1 {
		t.Fatalf("PutBlock prefix = %+v", p)
	}
	pins, err := c.Pins(ctx)
	if err != nil || len(pins) != 1 || !pins[0].Cid.Equals(k) || pins[0].Recursive {
		t.Fatalf("Pins = %v, %v; want one direct pin of %s", pins, err, k)
	}
	for _, bad := range []struct{ codec, mh string }{{"no-such-codec", ""}, {"raw", "no-such-hash"}, {"raw", "md5"}} {
		if _, err := c.PutBlock(ctx, data, bad.codec, bad.mh, -1, false); err == nil {
			t.Errorf("PutBlock(codec %q, mh %q) succeeded", bad.codec, bad.mh)
		}
	}
}

func countKeys(t *testing.T, ds datastore.Datastore, prefix string) int {
	t.Helper()
	return len(queryKeys(t, ds, prefix))
}
