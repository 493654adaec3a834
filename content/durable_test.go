package content

import (
	"testing"

	"github.com/ipfs/go-datastore"
)

// Blocks are flushed before a pin record, and only when a block was
// written since the last flush.
func TestDurableStoreFlushesBlocksBeforePins(t *testing.T) {
	ds, err := OpenDatastore(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	d, ok := ds.(*durableStore)
	if !ok {
		t.Fatalf("durable datastore is a %T", ds)
	}
	ctx := t.Context()
	put := func(key string) {
		t.Helper()
		if err := d.Put(ctx, datastore.NewKey(key), []byte("x")); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	put("/provider/queue/1")
	if d.dirty.Load() {
		t.Fatal("a non-block write marked blocks dirty")
	}
	b, err := d.Batch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, datastore.NewKey("/blocks/CIQEXAMPLE"), []byte("block")); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !d.dirty.Load() {
		t.Fatal("a batched block write did not mark blocks dirty")
	}
	put("/pins/pin/abc")
	if d.dirty.Load() {
		t.Fatal("a pin record was written with blocks still unflushed")
	}
	if got, err := d.Get(ctx, datastore.NewKey("/blocks/CIQEXAMPLE")); err != nil || string(got) != "block" {
		t.Fatalf("block reads back as %q, %v", got, err)
	}
}

func TestNonDurableDatastoreIsPlain(t *testing.T) {
	ds, err := OpenDatastore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	if _, ok := ds.(*durableStore); ok {
		t.Fatal("durable=false still wraps the store")
	}
}
