package content

import (
	"context"
	"slices"
	"sync"
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

// eventStore records, in order, the writes and syncs that reach it; a
// block put waits for release before it lands.
type eventStore struct {
	datastore.Batching
	mu      sync.Mutex
	events  []string
	started chan struct{}
	release chan struct{}
}

func (e *eventStore) note(ev string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *eventStore) Put(ctx context.Context, key datastore.Key, value []byte) error {
	if isBlock(key) {
		close(e.started)
		<-e.release
	}
	e.note("put " + key.String())
	return e.Batching.Put(ctx, key, value)
}

func (e *eventStore) Sync(ctx context.Context, prefix datastore.Key) error {
	e.note("sync")
	return e.Batching.Sync(ctx, prefix)
}

// A pin that comes after a block write has landed is preceded by a flush
// that covers the block, even when an earlier pin's flush ran while that
// write was still on its way. (Before, the block write marked the store
// dirty as it started, the earlier flush cleared the mark before the
// block landed, and the later pin went to disk with the block unsynced.)
func TestDurableStoreFlushesABlockThatLandsDuringAFlush(t *testing.T) {
	inner := &eventStore{Batching: NewMemoryDatastore(), started: make(chan struct{}), release: make(chan struct{})}
	d := &durableStore{Batching: inner}
	ctx := t.Context()
	written := make(chan error)
	go func() { written <- d.Put(ctx, datastore.NewKey("/blocks/B"), []byte("b")) }()
	<-inner.started
	if err := d.Put(ctx, datastore.NewKey("/pins/one"), nil); err != nil {
		t.Fatal(err)
	}
	close(inner.release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, datastore.NewKey("/pins/two"), nil); err != nil {
		t.Fatal(err)
	}
	landed := slices.Index(inner.events, "put /blocks/B")
	two := slices.Index(inner.events, "put /pins/two")
	if !slices.Contains(inner.events[landed:two], "sync") {
		t.Fatalf("a pin was written after a block landed with no flush between: %v", inner.events)
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
