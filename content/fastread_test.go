package content

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/cairnnet/cairn/internal/p2ptest"
	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/libp2p/go-libp2p/core/host"
)

// TestReadThroughTheFastPath: a file held by three connected peers is read
// from them as CAR streams, not through Bitswap.
func TestReadThroughTheFastPath(t *testing.T) {
	ctx := testContext(t)
	data := randomBytes(12<<20+5, 21)
	var providers []host.Host
	var root ImportResult
	for range 3 {
		h := newHost(t)
		c := newTestContent(t, h, nil, NewMemoryDatastore(), DefaultConfig())
		root = importBytes(t, c, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
		providers = append(providers, h)
	}
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	p2ptest.ConnectIdentified(t, hB, providers...)

	st := readThrough(t, ctx, b, root.Cid, data)
	if st.BlocksReceived != 0 {
		t.Fatalf("%d blocks came through Bitswap, want all through the fast path", st.BlocksReceived)
	}
}

// dyingStore serves blocks until after gets of them, then closes kill:
// a provider that crashes in the middle of a transfer.
type dyingStore struct {
	blockstore.Blockstore
	after int64
	gets  atomic.Int64
	kill  host.Host
}

func (s *dyingStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if n := s.gets.Add(1); n == s.after {
		go s.kill.Close()
	} else if n > s.after {
		return nil, errors.New("provider gone")
	}
	return s.Blockstore.Get(ctx, k)
}

// TestFastPathFallsBackToBitswap: the only peer serving the fast path
// dies mid-transfer; the read completes through Bitswap from a peer that
// speaks only Bitswap (as Kubo does by default).
func TestFastPathFallsBackToBitswap(t *testing.T) {
	ctx := testContext(t)
	data := randomBytes(16<<20, 22)

	bitswapOnly := DefaultConfig()
	bitswapOnly.FastPath = false
	hSlow := newHost(t)
	slow := newTestContent(t, hSlow, nil, NewMemoryDatastore(), bitswapOnly)
	root := importBytes(t, slow, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})

	// The fast peer serves the same blocks, and dies after a few.
	hFast := newHost(t)
	srv, err := fastpath.NewServer(hFast, blockservice.New(&dyingStore{Blockstore: slow.bstore, after: 24, kill: hFast}, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	p2ptest.ConnectIdentified(t, hB, hFast, hSlow)

	st := readThrough(t, ctx, b, root.Cid, data)
	if st.BlocksReceived == 0 {
		t.Fatal("no block came through Bitswap, though the fast peer died")
	}
	if st.BlocksReceived >= uint64(len(data)>>18) {
		t.Fatalf("%d blocks came through Bitswap: the fast path fetched nothing", st.BlocksReceived)
	}
}

// TestReadARangeThroughTheFastPath: reading a few bytes in the middle of a
// peer's file fetches the leaves under them, not the file.
func TestReadARangeThroughTheFastPath(t *testing.T) {
	ctx := testContext(t)
	data := randomBytes(16<<20, 23)
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), DefaultConfig())
	root := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	p2ptest.ConnectIdentified(t, hB, hA)

	const off, n = 9<<20 + 12345, 300_000
	nd, err := b.NodeRange(ctx, root.Cid, off, n)
	if err != nil {
		t.Fatal(err)
	}
	f := nd.(files.File)
	defer f.Close()
	if _, err := f.(io.Seeker).Seek(off, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, n)
	if _, err := io.ReadFull(f, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data[off:off+n]) {
		t.Fatal("range read differs from the file")
	}
	// Counters move just after a block reaches the reader; the fetch
	// ends with the range's last leaf.
	st := counted(t, "fast path", b.FastPathStats, func(s fastpath.Stats) bool { return s.FilesFetched == 1 })
	if st.BytesReceived == 0 || st.BytesReceived > 3*256<<10+64<<10 {
		t.Fatalf("%d bytes came through the fast path for a %d-byte range: want the 2-3 leaves under it", st.BytesReceived, n)
	}
}

// TestReadADirectoryThroughTheFastPath: a directory a peer holds is
// fetched whole as one CAR stream, and its files read from it.
func TestReadADirectoryThroughTheFastPath(t *testing.T) {
	ctx := testContext(t)
	want := map[string][]byte{
		"a":       randomBytes(3<<20+1, 24),
		"b":       randomBytes(700_000, 25),
		"sub/c":   randomBytes(2<<20, 26),
		"sub/d/e": randomBytes(10, 27),
	}
	tree := files.NewMapDirectory(map[string]files.Node{
		"a": files.NewBytesFile(want["a"]),
		"b": files.NewBytesFile(want["b"]),
		"sub": files.NewMapDirectory(map[string]files.Node{
			"c": files.NewBytesFile(want["sub/c"]),
			"d": files.NewMapDirectory(map[string]files.Node{"e": files.NewBytesFile(want["sub/d/e"])}),
		}),
	})
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), DefaultConfig())
	res, err := a.ImportNode(ctx, tree, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	p2ptest.ConnectIdentified(t, hB, hA)

	nd, err := b.Node(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string][]byte)
	err = files.Walk(nd, func(path string, n files.Node) error {
		if f, ok := n.(files.File); ok {
			data, err := io.ReadAll(f)
			got[path] = data
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, data := range want {
		if !bytes.Equal(got[path], data) {
			t.Errorf("%s: read %d bytes, want %d", path, len(got[path]), len(data))
		}
	}
	if st, _ := b.BitswapStats(); st.BlocksReceived != 0 {
		t.Fatalf("%d blocks came through Bitswap, want all through the fast path", st.BlocksReceived)
	}
	// The reader can finish before the stream's end is read.
	counted(t, "fast path", b.FastPathStats, func(s fastpath.Stats) bool { return s.FilesFetched == 1 })
}

// TestFastPathFindsProvidersThroughTheRouter: a peer that is not connected
// to the provider finds it through routing and fetches over the fast path.
func TestFastPathFindsProvidersThroughTheRouter(t *testing.T) {
	ctx := testContext(t)
	routing := newFakeRouting()
	hA, hB := newHost(t), newHost(t)
	a := newTestContent(t, hA, routing.routerFor(hA), NewMemoryDatastore(), DefaultConfig())
	b := newTestContent(t, hB, routing.routerFor(hB), NewMemoryDatastore(), DefaultConfig())
	data := randomBytes(6<<20+3, 28)
	res := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10, Pin: true})
	routing.waitAnnounced(t, res.Cid)

	st := readThrough(t, ctx, b, res.Cid, data)
	// Counters move just after a block reaches the reader.
	counted(t, "fast path", b.FastPathStats, func(s fastpath.Stats) bool { return s.BytesReceived >= uint64(len(data)) })
	if st.BlocksReceived != 0 {
		t.Fatalf("%d blocks came through Bitswap", st.BlocksReceived)
	}
}

// readThrough reads root on c, checks it is want, and returns c's Bitswap
// counters after the read.
func readThrough(t *testing.T, ctx context.Context, c *Content, root cid.Cid, want []byte) bitswap.Stat {
	t.Helper()
	nd, err := c.Node(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, differing from the file's %d", len(got), len(want))
	}
	st, err := c.bswap.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return *st
}
