package packstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// damageCases harm a synced store's pack on disk, behind its back, the
// ways a disk does.
var damageCases = []struct {
	name string
	harm func(t *testing.T, pack string, off int64)
}{
	{"flipped byte", func(t *testing.T, pack string, off int64) {
		raw, err := os.ReadFile(pack)
		if err != nil {
			t.Fatal(err)
		}
		raw[off+10] ^= 0x20
		if err := os.WriteFile(pack, raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}},
	{"truncated pack", func(t *testing.T, pack string, off int64) {
		if err := os.Truncate(pack, off+5); err != nil {
			t.Fatal(err)
		}
	}},
	{"pack gone", func(t *testing.T, pack string, _ int64) {
		if err := os.Remove(pack); err != nil {
			t.Fatal(err)
		}
	}},
}

// A value whose bytes rot is never returned: the read that finds it gives
// ErrDamaged, Has stops counting it (so that a put repairs it), a listing
// still shows it until then, and putting it again repairs it.
func TestDamagedValueIsRefusedListedAndRepairedByAPut(t *testing.T) {
	for _, tc := range damageCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir, index := t.TempDir(), newIndex()
			s := open(t, dir, index, small(false))
			v := value(1, 5000)
			if err := s.Put(ctx, key(1), v); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			at, err := (&Store{index: index}).lookup(ctx, key(1))
			if err != nil {
				t.Fatal(err)
			}
			tc.harm(t, filepath.Join(dir, packName(at.pack)), at.off)

			s = open(t, dir, index, small(false))
			defer s.Close()
			if ok, err := s.Has(ctx, key(1)); err != nil || !ok {
				t.Fatalf("before any read, Has = %v, %v", ok, err)
			}
			if got, err := s.Get(ctx, key(1)); !errors.Is(err, ErrDamaged) {
				t.Fatalf("read of a damaged value: %d bytes, %v", len(got), err)
			}
			if ok, err := s.Has(ctx, key(1)); err != nil || ok {
				t.Fatalf("after the damage was found, Has = %v, %v", ok, err)
			}
			if _, err := s.Get(ctx, key(1)); !errors.Is(err, ErrDamaged) {
				t.Fatalf("second read of a damaged value: %v", err)
			}
			if keys := listKeys(t, s); len(keys) != 1 || keys[0] != key(1).String() {
				t.Fatalf("listing after damage: %v", keys)
			}
			if n, err := s.GetSize(ctx, key(1)); err != nil || n != len(v) {
				t.Fatalf("size of a damaged value: %d, %v", n, err)
			}
			if err := s.Put(ctx, key(1), v); err != nil {
				t.Fatal(err)
			}
			checkAll(t, s, map[datastore.Key][]byte{key(1): v})
		})
	}
}

func listKeys(t *testing.T, s *Store) []string {
	t.Helper()
	res, err := s.Query(context.Background(), query.Query{KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	return keys
}

// Index entries from before checksums (16 bytes) are checked by Verify
// on their first read, which records their checksum; one that fails it
// is damaged.
func TestEntriesWithoutChecksumVerifiedOnFirstRead(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	s := open(t, dir, index, small(false))
	good, bad := value(1, 3000), value(2, 3000)
	for i, v := range [][]byte{good, bad} {
		if err := s.Put(ctx, key(i+1), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Rewrite both entries as the layout before checksums had them.
	for i := 1; i <= 2; i++ {
		raw, err := index.Get(ctx, key(i))
		if err != nil {
			t.Fatal(err)
		}
		if err := index.Put(ctx, key(i), raw[:legacyLocSize]); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	opts := small(false)
	opts.Verify = func(k string, v []byte) error {
		calls++
		if k == key(2).String() {
			return errors.New("hash mismatch")
		}
		return nil
	}
	s = open(t, dir, index, opts)
	defer s.Close()
	for range 2 {
		if got, err := s.Get(ctx, key(1)); err != nil || !bytes.Equal(got, good) {
			t.Fatalf("old entry: %v", err)
		}
	}
	if calls != 1 {
		t.Fatalf("Verify ran %d times for two reads, want once", calls)
	}
	if raw, _ := index.Get(ctx, key(1)); len(raw) != locSize {
		t.Fatalf("the checksum was not recorded: entry of %d bytes", len(raw))
	}
	if _, err := s.Get(ctx, key(2)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("an old entry failing Verify: %v", err)
	}
	if ok, _ := s.Has(ctx, key(2)); ok {
		t.Fatal("an old entry that failed Verify still counts")
	}
}

// A store opened and closed again and again leaves no empty packs behind
// (each open used to start one).
func TestReopeningLeavesNoEmptyPacks(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	for i := range 5 {
		s := open(t, dir, index, small(true))
		if i == 2 {
			if err := s.Put(ctx, key(1), value(1, 100)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := packIDs(osFS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 {
		t.Fatalf("%d packs after five opens and one put: %v", len(ids), ids)
	}
}

// A pack with one damaged value and the rest dead is compacted away, the
// damaged value left a tombstone.
func TestCompactionPassesDamagedValues(t *testing.T) {
	ctx := context.Background()
	dir, index := t.TempDir(), newIndex()
	s := open(t, dir, index, small(false))
	for i := range 12 { // the first 10 fill a pack, sealed
		if err := s.Put(ctx, key(i), value(i, 4000)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 10; i++ {
		if i != 3 {
			if err := s.Delete(ctx, key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	at, err := s.lookup(ctx, key(0))
	if err != nil {
		t.Fatal(err)
	}
	damageCases[0].harm(t, filepath.Join(dir, packName(at.pack)), at.off)
	if _, err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, packName(at.pack))); !os.IsNotExist(err) {
		t.Fatalf("the pack with the damaged value is still there: %v", err)
	}
	if _, err := s.Get(ctx, key(0)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("the damaged value after compaction: %v", err)
	}
	if got, err := s.Get(ctx, key(3)); err != nil || !bytes.Equal(got, value(3, 4000)) {
		t.Fatalf("the live value after compaction: %v", err)
	}
}
