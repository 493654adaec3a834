package packstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
)

// small makes packs and buffers tiny, so a few values cross buffer and
// pack boundaries.
func small(direct bool) Options {
	return Options{BufferSize: 8 << 10, MaxPackSize: 40 << 10, CompactAfter: 1 << 40, NoDirectIO: !direct, CacheBytes: -1}
}

func value(seed, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// sizes cross every boundary that matters: empty, under and over one
// aligned page, and over a whole buffer.
var sizes = []int{0, 1, 100, 4095, 4096, 4097, 9000, 20 << 10, 3}

func key(i int) datastore.Key { return datastore.NewKey(fmt.Sprintf("/K%04d", i)) }

func newIndex() datastore.Batching { return dssync.MutexWrap(datastore.NewMapDatastore()) }

func open(t *testing.T, dir string, index datastore.Batching, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, index, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func checkAll(t *testing.T, s *Store, want map[datastore.Key][]byte) {
	t.Helper()
	ctx := context.Background()
	for k, v := range want {
		got, err := s.Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if !bytes.Equal(got, v) {
			t.Fatalf("get %s: %d bytes differ from the %d put", k, len(got), len(v))
		}
		if n, err := s.GetSize(ctx, k); err != nil || n != len(v) {
			t.Fatalf("size of %s: %d, %v; want %d", k, n, err, len(v))
		}
		if ok, err := s.Has(ctx, k); err != nil || !ok {
			t.Fatalf("has %s: %v, %v", k, ok, err)
		}
	}
}

func modes(t *testing.T, fn func(t *testing.T, direct bool)) {
	for _, direct := range []bool{true, false} {
		t.Run(fmt.Sprintf("direct=%v", direct), func(t *testing.T) { fn(t, direct) })
	}
}

// Values read back right before being written, after, after a rotation to
// a new pack, and after the store is reopened.
func TestPutGetAcrossBuffersPacksAndReopen(t *testing.T) {
	modes(t, func(t *testing.T, direct bool) {
		ctx := context.Background()
		dir, index := t.TempDir(), newIndex()
		s := open(t, dir, index, small(direct))
		want := make(map[datastore.Key][]byte)
		for i := range 40 {
			v := value(i, sizes[i%len(sizes)])
			if err := s.Put(ctx, key(i), v); err != nil {
				t.Fatal(err)
			}
			want[key(i)] = v
			checkAll(t, s, want)
		}
		if ids, _ := packIDs(osFS{}, dir); len(ids) < 3 {
			t.Fatalf("%d packs: the test wants values across several", len(ids))
		}
		if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
			t.Fatal(err)
		}
		checkAll(t, s, want)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir, index, small(direct))
		defer s.Close()
		checkAll(t, s, want)
		if _, err := s.Get(ctx, key(999)); !errors.Is(err, datastore.ErrNotFound) {
			t.Fatalf("get of a missing key: %v", err)
		}
	})
}

// The index never names bytes not yet synced: a store abandoned without
// Sync or Close (as a power cut leaves it: what was not synced may be
// lost) reopens with every value from before its last Sync, and none put
// after it.
func TestAbandonedStoreIndexesOnlySyncedValues(t *testing.T) {
	modes(t, func(t *testing.T, direct bool) {
		ctx := context.Background()
		dir, index := t.TempDir(), newIndex()
		opts := small(direct)
		opts.MaxPackSize = 1 << 20 // no rotation, which syncs
		s := open(t, dir, index, opts)
		for i := range 14 {
			if err := s.Put(ctx, key(i), value(i, 3000)); err != nil {
				t.Fatal(err)
			}
			if i == 6 {
				if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Abandon s: stop its compactor, let the buffer writes already
		// started end, write nothing more.
		s.cancel()
		<-s.done
		s.w.writes.Wait()

		r := open(t, dir, index, opts)
		defer r.Close()
		for i := range 14 {
			got, err := r.Get(ctx, key(i))
			switch {
			case i <= 6 && (err != nil || !bytes.Equal(got, value(i, 3000))):
				t.Fatalf("value %d, synced, reads back wrong: %v", i, err)
			case i > 6 && !errors.Is(err, datastore.ErrNotFound):
				t.Fatalf("value %d, never synced, is indexed: %v", i, err)
			}
		}
	})
}

func TestQueryListsEveryKeyIncludingUnwritten(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), newIndex(), small(true))
	defer s.Close()
	want := make(map[string][]byte)
	for i := range 5 {
		v := value(i, 1000)
		if err := s.Put(ctx, key(i), v); err != nil {
			t.Fatal(err)
		}
		want[key(i).String()] = v
	}
	for _, keysOnly := range []bool{true, false} {
		res, err := s.Query(ctx, query.Query{KeysOnly: keysOnly, Orders: []query.Order{query.OrderByKey{}}})
		if err != nil {
			t.Fatal(err)
		}
		entries, err := res.Rest()
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != len(want) {
			t.Fatalf("query listed %d keys, want %d", len(entries), len(want))
		}
		for _, e := range entries {
			if e.Size != len(want[e.Key]) || (!keysOnly && !bytes.Equal(e.Value, want[e.Key])) {
				t.Fatalf("entry %s: size %d, value of %d bytes", e.Key, e.Size, len(e.Value))
			}
		}
	}
}

// Compaction removes mostly-dead packs and keeps every live value.
func TestCompactRemovesDeadPacksKeepsLiveValues(t *testing.T) {
	modes(t, func(t *testing.T, direct bool) {
		ctx := context.Background()
		dir := t.TempDir()
		s := open(t, dir, newIndex(), small(direct))
		defer s.Close()
		want := make(map[datastore.Key][]byte)
		for i := range 30 {
			v := value(i, 5000)
			if err := s.Put(ctx, key(i), v); err != nil {
				t.Fatal(err)
			}
			want[key(i)] = v
		}
		before, err := s.DiskUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if i%5 != 0 {
				if err := s.Delete(ctx, key(i)); err != nil {
					t.Fatal(err)
				}
				delete(want, key(i))
			}
		}
		removed, err := s.Compact(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if removed == 0 {
			t.Fatal("compaction removed no pack with 4 in 5 values deleted")
		}
		after, err := s.DiskUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after*2 > before {
			t.Fatalf("disk usage %d → %d after deleting 4 in 5 values", before, after)
		}
		checkAll(t, s, want)
		for i := range 30 {
			if ok, _ := s.Has(ctx, key(i)); ok != (i%5 == 0) {
				t.Fatalf("key %d present=%v after compaction", i, ok)
			}
		}
	})
}

// Writers, readers, deleters and a compaction at once (run with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), newIndex(), small(true))
	defer s.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				k := key(w*1000 + i)
				v := value(w*1000+i, 700*(i%7))
				if err := s.Put(ctx, k, v); err != nil {
					errs <- err
					return
				}
				got, err := s.Get(ctx, k)
				if err != nil || !bytes.Equal(got, v) {
					errs <- fmt.Errorf("get %s right after put: %v", k, err)
					return
				}
				if i%3 == 0 {
					if err := s.Delete(ctx, k); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 5 {
			if _, err := s.Compact(ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range 4 {
		for i := range 50 {
			ok, err := s.Has(ctx, key(w*1000+i))
			if err != nil || ok != (i%3 != 0) {
				t.Fatalf("key %d/%d present=%v, %v", w, i, ok, err)
			}
		}
	}
}

func TestBatchAppliesInOrder(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), newIndex(), small(true))
	defer s.Close()
	b, _ := s.Batch(ctx)
	_ = b.Put(ctx, key(1), []byte("one"))
	_ = b.Delete(ctx, key(1))
	_ = b.Put(ctx, key(1), []byte("uno"))
	_ = b.Put(ctx, key(2), []byte("two"))
	_ = b.Delete(ctx, key(2))
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx, key(1)); err != nil || string(got) != "uno" {
		t.Fatalf("key 1: %q, %v", got, err)
	}
	if ok, _ := s.Has(ctx, key(2)); ok {
		t.Fatal("key 2 was put then deleted in the batch, yet is there")
	}
}

// Reads front to back, back to front and while the pack is still being
// written all come back right, whether served by read-ahead or not.
func TestReadsInAnyOrder(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	s := open(t, dir, index, Options{MaxPackSize: 10 << 20, CacheBytes: -1})
	defer s.Close()
	want := make(map[datastore.Key][]byte)
	const count = 60
	for i := range count {
		v := value(i, 300<<10+i)
		if err := s.Put(ctx, key(i), v); err != nil {
			t.Fatal(err)
		}
		want[key(i)] = v
		// Read back the value before, which may sit in a chunk read
		// ahead while its pack was still growing.
		if i > 0 {
			got, err := s.Get(ctx, key(i-1))
			if err != nil || !bytes.Equal(got, want[key(i-1)]) {
				t.Fatalf("value %d read back while writing: %v", i-1, err)
			}
		}
	}
	check := func(i int) {
		got, err := s.Get(ctx, key(i))
		if err != nil || !bytes.Equal(got, want[key(i)]) {
			t.Fatalf("value %d: %v", i, err)
		}
	}
	for i := range count {
		check(i)
	}
	for i := count - 1; i >= 0; i-- {
		check(i)
	}
	for i := 0; i < count; i += 7 {
		check(i)
	}
}

// What was deleted before a restart is compacted after it, though the
// count of deleted bytes starts again from zero.
func TestReopenCompactsWhatWasDeletedBefore(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	s := open(t, dir, index, small(true))
	for i := range 30 {
		if err := s.Put(ctx, key(i), value(i, 5000)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		if i%5 != 0 {
			if err := s.Delete(ctx, key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	before, _ := s.DiskUsage(ctx)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir, index, small(true))
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		after, err := s.DiskUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if after*2 <= before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disk usage still %d of %d 10 s after reopening", after, before)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 30; i += 5 {
		if got, err := s.Get(ctx, key(i)); err != nil || !bytes.Equal(got, value(i, 5000)) {
			t.Fatalf("value %d after compaction: %v", i, err)
		}
	}
}

// Small values are served from memory once written or read, and never
// after they are deleted.
func TestSmallValuesCached(t *testing.T) {
	ctx := context.Background()
	opts := small(true)
	opts.CacheBytes = 10 << 10
	s := open(t, t.TempDir(), newIndex(), opts)
	defer s.Close()
	for i := range 4 {
		if err := s.Put(ctx, key(i), value(i, 3000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
		t.Fatal(err)
	}
	// 4 × 3000 bytes do not fit in 10 KiB: the first went.
	if _, ok := s.small.get(key(0).String()); ok {
		t.Fatal("the least recently used value is still cached past the bound")
	}
	if got, ok := s.small.get(key(3).String()); !ok || !bytes.Equal(got, value(3, 3000)) {
		t.Fatal("the value written last is not cached")
	}
	if got, err := s.Get(ctx, key(0)); err != nil || !bytes.Equal(got, value(0, 3000)) {
		t.Fatalf("value 0 from disk: %v", err)
	}
	if _, ok := s.small.get(key(0).String()); !ok {
		t.Fatal("a small value read from disk was not cached")
	}
	if err := s.Delete(ctx, key(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key(0)); !errors.Is(err, datastore.ErrNotFound) {
		t.Fatalf("a deleted value still reads: %v", err)
	}
}

// A key put again and again leaves dead bytes that compaction reclaims,
// as deletes do, and reads give the last value.
func TestOverwritesAreCompacted(t *testing.T) {
	ctx := context.Background()
	opts := small(true)
	opts.CompactAfter = 20 << 10
	s := open(t, t.TempDir(), newIndex(), opts)
	defer s.Close()
	for i := range 40 {
		if err := s.Put(ctx, key(1), value(i, 5000)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		usage, err := s.DiskUsage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 40 × 5000 bytes were written; one value is live.
		if usage < 100<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disk usage still %d bytes 10 s after 39 overwrites", usage)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, err := s.Get(ctx, key(1)); err != nil || !bytes.Equal(got, value(39, 5000)) {
		t.Fatalf("the last value put does not read back: %v", err)
	}
}
