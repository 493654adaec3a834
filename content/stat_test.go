package content

import (
	"bytes"
	"errors"
	"testing"
)

func TestRepoStatCountsBlocksAndBytes(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	empty, err := c.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if empty != (RepoStat{}) {
		t.Fatalf("empty repo: %+v", empty)
	}
	if _, err := c.PutBlock(ctx, []byte("12345"), "raw", "", -1, false); err != nil {
		t.Fatal(err)
	}
	// The same bytes again are no new block.
	if _, err := c.PutBlock(ctx, []byte("12345"), "raw", "", -1, false); err != nil {
		t.Fatal(err)
	}
	st, _ := c.RepoStat(ctx)
	if st.NumObjects != 1 || st.RepoSize != 5 {
		t.Fatalf("after one 5-byte block: %+v", st)
	}
}

func TestStorageMaxRefusesWritesPastIt(t *testing.T) {
	cfg := smallChunks()
	cfg.StorageMax = 100 << 10
	c := newOffline(t, cfg)
	ctx := testContext(t)
	first := importBytes(t, c, randomBytes(60<<10, 1), ImportOptions{CIDVersion: -1, Pin: true})

	_, err := c.Import(ctx, bytes.NewReader(randomBytes(60<<10, 2)), ImportOptions{CIDVersion: -1, Pin: true})
	if !errors.Is(err, ErrStorageFull) {
		t.Fatalf("import past storage_max: err = %v, want ErrStorageFull", err)
	}
	if _, err := c.PutBlock(ctx, randomBytes(50<<10, 3), "raw", "", -1, false); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("block put past storage_max: err = %v, want ErrStorageFull", err)
	}
	st, _ := c.RepoStat(ctx)
	if st.RepoSize > cfg.StorageMax || st.StorageMax != cfg.StorageMax {
		t.Fatalf("stat %+v: over the limit of %d", st, cfg.StorageMax)
	}
	// Freeing space makes room again.
	if err := c.Unpin(ctx, first.Cid); err != nil {
		t.Fatal(err)
	}
	gc(t, c)
	importBytes(t, c, randomBytes(60<<10, 2), ImportOptions{CIDVersion: -1, Pin: true})
}

func TestRepoStatSurvivesReopen(t *testing.T) {
	ctx := testContext(t)
	ds := NewMemoryDatastore()
	c, err := New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatal(err)
	}
	importBytes(t, c, randomBytes(30<<10, 1), ImportOptions{CIDVersion: -1, Pin: true})
	before, _ := c.RepoStat(ctx)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	again := newTestContent(t, nil, nil, ds, smallChunks())
	after, _ := again.RepoStat(ctx)
	if after != before || before.NumObjects == 0 {
		t.Fatalf("stat before close %+v, after reopen %+v", before, after)
	}
}

// A node whose store is full refuses to fetch, at once and saying why,
// rather than failing to keep what arrives and waiting for ever.
func TestStorageMaxRefusesFetchWhenFull(t *testing.T) {
	ctx := testContext(t)
	routing := newFakeRouting()
	hA, hB := newHost(t), newHost(t)
	a := newTestContent(t, hA, routing.routerFor(hA), NewMemoryDatastore(), DefaultConfig())
	cfg := DefaultConfig()
	cfg.StorageMax = 3 << 20
	b := newTestContent(t, hB, routing.routerFor(hB), NewMemoryDatastore(), cfg)
	res := importBytes(t, a, randomBytes(1<<20, 1), ImportOptions{CIDVersion: -1, Pin: true})
	routing.waitAnnounced(t, res.Cid)
	// 1.5 MiB stored leaves less than a largest block's room under 3 MiB.
	importBytes(t, b, randomBytes(3<<19, 2), ImportOptions{CIDVersion: -1, Pin: true})

	_, err := b.Node(ctx, res.Cid)
	if !errors.Is(err, ErrStorageFull) {
		t.Fatalf("fetch into a full store: err = %v, want ErrStorageFull", err)
	}
	if err := b.Pin(ctx, res.Cid, true); !errors.Is(err, ErrStorageFull) {
		t.Fatalf("pin into a full store: err = %v, want ErrStorageFull", err)
	}
}

// A clean Close saves the counters and the next start takes them; a start
// after a crash, with none saved, counts the blocks.
func TestRepoStatSavedOnlyAcrossCleanClose(t *testing.T) {
	ctx := testContext(t)
	ds := NewMemoryDatastore()
	c, err := New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatal(err)
	}
	importBytes(t, c, randomBytes(30<<10, 1), ImportOptions{CIDVersion: -1, Pin: true})
	want, _ := c.RepoStat(ctx)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Doctor the saved counters: a start that uses them shows it.
	if err := ds.Put(ctx, statKey, []byte(`{"Objects":7,"Bytes":70}`)); err != nil {
		t.Fatal(err)
	}
	c, err = New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.RepoStat(ctx); got.NumObjects != 7 || got.RepoSize != 70 {
		t.Fatalf("stat %+v, want the saved 7 objects and 70 bytes", got)
	}
	if has, _ := ds.Has(ctx, statKey); has {
		t.Fatal("saved counters still present while the store is open")
	}
	// "Crash": never Close, and start again on the same datastore.
	crashed := newTestContent(t, nil, nil, ds, smallChunks())
	if got, _ := crashed.RepoStat(ctx); got != want {
		t.Fatalf("stat after a crash %+v, want a fresh count %+v", got, want)
	}
	c.Close()
}
