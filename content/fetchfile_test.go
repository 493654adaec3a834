package content

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairnnet/cairn/internal/p2ptest"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/host"
)

// openTestDisk is a datastore on disk (packs), closed when the test ends.
func openTestDisk(t *testing.T) datastore.Batching {
	t.Helper()
	ds, err := OpenDatastore(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	return ds
}

// writeFile runs WriteFileTo for root into a new file and checks that the
// file holds want.
func writeFile(t *testing.T, c *Content, root cid.Cid, want []byte) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	n, err := c.WriteFileTo(testContext(t), root, out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) || !bytes.Equal(got, want) {
		t.Fatalf("wrote %d bytes (%d in the file), want %d, differing", n, len(got), len(want))
	}
}

// TestWriteFileTo: a file goes into an open file from peers on the fast
// path (into a fetcher on disk, which reuses its buffers, and one in
// memory, which does not), then from the store once held. A directory is
// refused.
func TestWriteFileTo(t *testing.T) {
	data := randomBytes(6<<20+123, 41)
	var hosts []host.Host
	var root cid.Cid
	for range 2 {
		h := newHost(t)
		c := newTestContent(t, h, nil, NewMemoryDatastore(), DefaultConfig())
		root = importBytes(t, c, data, ImportOptions{CIDVersion: -1}).Cid
		hosts = append(hosts, h)
	}
	for _, disk := range []bool{true, false} {
		ds := NewMemoryDatastore()
		if disk {
			ds = openTestDisk(t)
		}
		h := newHost(t)
		b := newTestContent(t, h, nil, ds, DefaultConfig())
		if b.storeCopies() != disk {
			t.Fatalf("storeCopies %v on disk %v", b.storeCopies(), disk)
		}
		p2ptest.ConnectIdentified(t, h, hosts...)
		writeFile(t, b, root, data)
		if st, _ := b.bswap.Stat(); st.BlocksReceived != 0 {
			t.Fatalf("%d blocks through Bitswap, want none", st.BlocksReceived)
		}
		if st := b.FastPathStats(); st.FilesFetched != 1 {
			t.Fatalf("fast path stats %+v, want one file fetched", st)
		}
		// Now stored: written from the store, with no fetch.
		writeFile(t, b, root, data)
		if st := b.FastPathStats(); st.Fetches != 1 {
			t.Fatalf("a stored file was fetched again: %+v", st)
		}

		dir, err := b.ImportNode(testContext(t), testTree(), ImportOptions{CIDVersion: -1})
		if err != nil {
			t.Fatal(err)
		}
		var sink bytes.Buffer
		if _, err := b.WriteFileTo(testContext(t), dir.Cid, offsetBuffer{&sink}); !errors.Is(err, ErrNotFile) {
			t.Fatalf("directory: %v, want ErrNotFile", err)
		}
	}
}

// TestWriteFileToThroughBitswap: with no peer on the fast path, the file
// comes through Bitswap.
func TestWriteFileToThroughBitswap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.FastPath = false
	data := randomBytes(3<<20+5, 42)
	hA, hB := newHost(t), newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), cfg)
	root := importBytes(t, a, data, ImportOptions{CIDVersion: -1}).Cid
	b := newTestContent(t, hB, nil, openTestDisk(t), cfg)
	p2ptest.ConnectIdentified(t, hB, hA)
	writeFile(t, b, root, data)
	if st, _ := b.bswap.Stat(); st.BlocksReceived == 0 {
		t.Fatal("no block through Bitswap")
	}
}

// offsetBuffer is an io.WriterAt that only appends, enough for a write
// that must fail before its first byte.
type offsetBuffer struct{ b *bytes.Buffer }

func (o offsetBuffer) WriteAt(p []byte, off int64) (int, error) { return o.b.Write(p) }
