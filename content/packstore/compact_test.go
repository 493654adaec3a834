package packstore

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/ipfs/go-datastore"
)

// On a disk with no room to move anything, compaction still frees what it
// can: packs with nothing live go at once, and those partly live are left
// until there is room to move their values.
func TestCompactionOnAFullDiskRemovesDeadPacksFirst(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	fsys := &faultFS{}
	opts := small(false)
	opts.FS = fsys
	s := open(t, dir, index, opts)
	defer s.Close()
	for i := range 40 { // four packs of ten
		if err := s.Put(ctx, key(i), value(i, 4000)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 { // the first two packs wholly dead, the third mostly
		if i != 25 {
			if err := s.Delete(ctx, key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	before, _ := packIDs(fsys, dir)
	at, err := s.lookup(ctx, key(25))
	if err != nil {
		t.Fatal(err)
	}
	mostlyDead := filepath.Join(dir, packName(at.pack))
	allocated := allocatedBytes(t, mostlyDead)
	fsys.free.Store(1) // no room for anything
	removed, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := packIDs(fsys, dir)
	if removed != 2 || len(after) != len(before)-2 {
		t.Fatalf("full disk: %d packs removed, %d → %d packs; want the 2 dead ones", removed, len(before), len(after))
	}
	if now := allocatedBytes(t, mostlyDead); now >= allocated {
		t.Fatalf("the mostly dead pack still takes %d bytes of disk (%d before): its dead bytes were not freed in place", now, allocated)
	}
	if got, err := s.Get(ctx, key(25)); err != nil || !bytes.Equal(got, value(25, 4000)) {
		t.Fatalf("the live value of a pack with holes punched: %v", err)
	}
	fsys.free.Store(0) // the real figure: room again
	if removed, err = s.Compact(ctx); err != nil || removed != 1 {
		t.Fatalf("with room: %d packs removed, %v; want the mostly dead one", removed, err)
	}
	if ok, _ := s.Has(ctx, key(25)); !ok {
		t.Fatal("the live value of the compacted pack is gone")
	}
}

// allocatedBytes is the disk space a file takes, holes left out.
func allocatedBytes(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

// A pack still being appended to is compacted too, once mostly dead: on
// a disk smaller than a pack, that is where everything is.
func TestCompactionSealsAMostlyDeadCurrentPack(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := small(false)
	opts.MaxPackSize = 1 << 20
	s := open(t, dir, newIndex(), opts)
	defer s.Close()
	for i := range 40 {
		if err := s.Put(ctx, key(i), value(i, 4000)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < 40; i++ {
		if err := s.Delete(ctx, key(i)); err != nil {
			t.Fatal(err)
		}
	}
	if removed, err := s.Compact(ctx); err != nil || removed != 1 {
		t.Fatalf("compaction removed %d packs, %v; want the current one, mostly dead", removed, err)
	}
	if got, err := s.Get(ctx, key(0)); err != nil || !bytes.Equal(got, value(0, 4000)) {
		t.Fatalf("the live value: %v", err)
	}
	if usage, _ := s.DiskUsage(ctx); usage > 16<<10 {
		t.Fatalf("%d bytes of packs left for one value of 4000", usage)
	}
}

// A value deleted while compaction moves it stays deleted, in the store
// and after a reopen.
func TestDeleteDuringCompactionStaysDeleted(t *testing.T) {
	ctx := context.Background()
	for round := range 20 {
		dir, index := t.TempDir(), newIndex()
		s := open(t, dir, index, small(round%2 == 0))
		for i := range 60 {
			if err := s.Put(ctx, key(i), value(i, 3000)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 60 {
			if i%4 != 0 {
				if err := s.Delete(ctx, key(i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := s.Compact(ctx); err != nil {
				t.Error(err)
			}
		})
		for i := 0; i < 60; i += 4 {
			if err := s.Delete(ctx, key(i)); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir, index, small(round%2 == 0))
		for i := range 60 {
			if _, err := s.Get(ctx, key(i)); !errors.Is(err, datastore.ErrNotFound) {
				t.Fatalf("round %d: value %d, deleted, reads back: %v", round, i, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
