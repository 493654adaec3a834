package content

import (
	"testing"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// The zero-byte block is always there, under any codec, and never stored;
// a block that only claims the empty hash is still refused.
func TestBlockstoreHoldsTheEmptyBlock(t *testing.T) {
	ctx := testContext(t)
	bs := newBlockstore(NewMemoryDatastore())
	raw := rawCID(t, nil)
	if raw.String() != "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku" {
		t.Fatalf("empty raw CID = %s", raw)
	}
	pb := cid.NewCidV1(cid.DagProtobuf, raw.Hash())
	for _, k := range []cid.Cid{raw, pb} {
		if has, err := bs.Has(ctx, k); err != nil || !has {
			t.Fatalf("Has(%s) = %v, %v; want true", k, has, err)
		}
		b, err := bs.Get(ctx, k)
		if err != nil || len(b.RawData()) != 0 || !b.Cid().Equals(k) {
			t.Fatalf("Get(%s) = %v, %v; want the empty block", k, b, err)
		}
		if n, err := bs.GetSize(ctx, k); err != nil || n != 0 {
			t.Fatalf("GetSize(%s) = %d, %v; want 0", k, n, err)
		}
	}
	empty, _ := blocks.NewBlockWithCid(nil, raw)
	if err := bs.PutMany(ctx, []blocks.Block{empty, blocks.NewBlock([]byte("x"))}); err != nil {
		t.Fatal(err)
	}
	keys, err := bs.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if isEmptyBlock(k) {
			t.Fatalf("the empty block was stored as %s", k)
		}
	}
	wantMismatch(t, bs.Put(ctx, forged(t, nil, []byte("not empty"))), raw)

	other, _ := mh.Sum([]byte("x"), mh.SHA2_256, -1)
	if has, _ := bs.Has(ctx, cid.NewCidV1(cid.Raw, other)); !has {
		t.Fatal("a stored block went missing")
	}
}
