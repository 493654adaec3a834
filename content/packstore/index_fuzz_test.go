package packstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"

	"github.com/ipfs/go-datastore"
)

// FuzzIndexEntry decodes arbitrary index entries and reads through them,
// as a store whose index was damaged would (a flipped bit, a torn write):
// every read must end with the value or an error, never a panic or an
// allocation the entry alone asks for. The store holds written packs and
// values still in its buffer, so that entries can point into either.
//
// Entries are pack, offset, length, then checksum and state; 16-byte
// entries from before checksums are read too, so both shapes are seeded.
func FuzzIndexEntry(f *testing.F) {
	s, err := Open(f.TempDir(), newIndex(), Options{BufferSize: 8 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	ctx := context.Background()
	vals := map[datastore.Key][]byte{}
	for i, n := range []int{100, 5000, 9000, 30} {
		v := bytes.Repeat([]byte{byte(i + 1)}, n)
		vals[key(i)] = v
		if err := s.Put(ctx, key(i), v); err != nil {
			f.Fatal(err)
		}
		if i == 2 {
			if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
				f.Fatal(err)
			}
		}
	}
	for k := range vals {
		if raw, err := s.index.Get(ctx, k); err == nil {
			f.Add(raw)
		}
	}
	f.Add(loc{pack: 1, off: -4096, n: 10}.encode())
	f.Add(loc{pack: 1, off: 1 << 62, n: 1 << 31}.encode())
	f.Add(loc{pack: s.w.curID, off: s.w.base + 1, n: 4000}.encode())
	f.Add([]byte("short"))

	victim := datastore.NewKey("/fuzzed")
	f.Fuzz(func(t *testing.T, entry []byte) {
		if len(entry) == locSize && binary.BigEndian.Uint32(entry[12:]) > 64<<20 {
			// A length the store would never write; reading it would
			// only measure this machine's memory.
			entry = append([]byte(nil), entry...)
			binary.BigEndian.PutUint32(entry[12:], binary.BigEndian.Uint32(entry[12:])%(64<<20))
		}
		if err := s.index.Put(ctx, victim, entry); err != nil {
			t.Fatal(err)
		}
		v, err := s.Get(ctx, victim)
		if n, serr := s.GetSize(ctx, victim); err == nil && (serr != nil || n != len(v)) {
			t.Fatalf("Get read %d bytes, GetSize says %d (%v)", len(v), n, serr)
		}
		if _, err := s.Has(ctx, victim); err != nil {
			t.Fatal(err)
		}
		s.small.remove(victim.String())
	})
}
