package content

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/cairnnet/cairn/internal/p2ptest"
)

// counted waits, until testTimeout, for cond to hold of the counters
// read: a fetch's last counts land a moment after its reader has the
// bytes (the job ends after it hands over its last block; a server counts
// what it wrote after the peer may have read it).
func counted[S any](t *testing.T, what string, read func() S, cond func(S) bool) S {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st := read()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: counters stayed at %+v", what, st)
		}
		<-tick.C
	}
}

// TestFastPathStatsCountARead: a file read from a peer through the fast
// path moves the reader's fetch counters and the provider's served bytes;
// Bitswap's stay still.
func TestFastPathStatsCountARead(t *testing.T) {
	ctx := testContext(t)
	data := randomBytes(6<<20+7, 31)
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), DefaultConfig())
	root := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), DefaultConfig())
	if st := b.FastPathStats(); st != (fastpath.Stats{}) {
		t.Fatalf("counters before any read: %+v", st)
	}
	p2ptest.ConnectIdentified(t, hB, hA)

	nd, err := b.Node(ctx, root.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, differing from the file's %d", len(got), len(data))
	}
	leaves := uint64(len(data)+256<<10-1) / (256 << 10)
	st := counted(t, "reader", b.FastPathStats, func(s fastpath.Stats) bool { return s.FilesFetched == 1 })
	if st.Fetches != 1 || st.FellBack != 0 || st.PeersDropped != 0 {
		t.Errorf("reader: %+v, want one fetch, done, nothing fallen back or dropped", st)
	}
	if st.BlocksReceived <= leaves || st.BytesReceived < uint64(len(data)) {
		t.Errorf("reader received %d blocks, %d bytes; want more than the %d leaves, at least the file's %d bytes",
			st.BlocksReceived, st.BytesReceived, leaves, len(data))
	}
	if st.BytesServed != 0 {
		t.Errorf("reader served %d bytes; it served nothing", st.BytesServed)
	}
	counted(t, "provider", a.FastPathStats, func(s fastpath.Stats) bool { return s.BytesServed >= uint64(len(data)) })
	if st := a.FastPathStats(); st.Fetches != 0 || st.BytesReceived != 0 {
		t.Errorf("provider fetched: %+v", st)
	}
	bs, err := b.BitswapStats()
	if err != nil {
		t.Fatal(err)
	}
	if bs.BlocksReceived != 0 {
		t.Errorf("%d blocks came through Bitswap, want all through the fast path", bs.BlocksReceived)
	}
}

// TestBitswapStatsCountARead: with the fast path off, a read moves
// Bitswap's counters on both sides.
func TestBitswapStatsCountARead(t *testing.T) {
	ctx := testContext(t)
	cfg := DefaultConfig()
	cfg.FastPath = false
	data := randomBytes(1<<20+3, 32)
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), cfg)
	root := importBytes(t, a, data, ImportOptions{CIDVersion: -1, ChunkSize: 256 << 10})
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), cfg)
	p2ptest.ConnectIdentified(t, hB, hA)

	nd, err := b.Node(ctx, root.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, data) {
		t.Fatal("read differs from the file")
	}
	stats := func(c *Content) func() bitswapCounts {
		return func() bitswapCounts {
			st, err := c.BitswapStats()
			if err != nil {
				t.Fatal(err)
			}
			return bitswapCounts{st.BlocksReceived, st.DataReceived, st.BlocksSent, st.DataSent}
		}
	}
	got := counted(t, "reader", stats(b), func(s bitswapCounts) bool { return s.dataReceived >= uint64(len(data)) })
	if got.blocksReceived < 5 || got.blocksSent != 0 {
		t.Errorf("reader: %+v, want at least the 5 blocks of the file received, none sent", got)
	}
	got = counted(t, "provider", stats(a), func(s bitswapCounts) bool { return s.dataSent >= uint64(len(data)) })
	if got.blocksSent < 5 || got.blocksReceived != 0 {
		t.Errorf("provider: %+v, want at least 5 blocks sent, none received", got)
	}
	if st := b.FastPathStats(); st != (fastpath.Stats{}) {
		t.Errorf("fast path off, yet counters %+v", st)
	}
}

// bitswapCounts are the Bitswap counters a test compares.
type bitswapCounts struct {
	blocksReceived, dataReceived, blocksSent, dataSent uint64
}

func TestExchangeStatsOffline(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	if _, err := c.BitswapStats(); !errors.Is(err, ErrOffline) {
		t.Errorf("BitswapStats offline: %v, want ErrOffline", err)
	}
	if st := c.FastPathStats(); st != (fastpath.Stats{}) {
		t.Errorf("FastPathStats offline: %+v, want zeros", st)
	}
}
