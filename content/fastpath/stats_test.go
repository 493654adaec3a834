package fastpath

import (
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/libp2p/go-libp2p/core/host"
)

// serveCounted is serve, returning the Server too, for its counter.
func serveCounted(t *testing.T, bs blockstore.Blockstore) (host.Host, *Server) {
	t.Helper()
	h := newHost(t)
	s, err := NewServer(h, blockservice.New(bs, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return h, s
}

// blockCount is how many blocks bs holds.
func blockCount(t *testing.T, bs blockstore.Blockstore) uint64 {
	t.Helper()
	keys, err := bs.AllKeysChan(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for range keys {
		n++
	}
	return n
}

// TestStatsCountAFetch: a whole fetch counts one file, every block of it
// received once, no drop and no fallback; the server counts at least the
// file's bytes sent. The server's count may land a moment after the
// fetcher stopped reading, so it is waited for.
func TestStatsCountAFetch(t *testing.T) {
	f := newFile(t, 3<<20+777, 11)
	a, srv := serveCounted(t, f.bs)
	b := newFetcher(t, Options{})
	connect(t, b.h, a)
	if st := b.Stats(); st != (Stats{}) {
		t.Fatalf("counters before a fetch: %+v", st)
	}

	if err := b.fetch(t, f.root).Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	want := Stats{Fetches: 1, FilesFetched: 1, BlocksReceived: blockCount(t, f.bs)}
	got := b.Stats()
	want.BytesReceived = got.BytesReceived
	if got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
	if got.BytesReceived < uint64(len(f.data)) {
		t.Errorf("%d bytes received, want at least the file's %d", got.BytesReceived, len(f.data))
	}
	deadline := time.Now().Add(10 * time.Second)
	for srv.BytesServed() < uint64(len(f.data)) {
		if time.Now().After(deadline) {
			t.Fatalf("server counted %d bytes served, want at least the file's %d", srv.BytesServed(), len(f.data))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStatsCountDropsAndFallbacks: a peer whose stream breaks is counted
// dropped, and a fetch it leaves unfinished counts as fallen back; a job
// its reader closes counts as neither.
func TestStatsCountDropsAndFallbacks(t *testing.T) {
	f := newFile(t, 4<<20, 12)
	other := newFile(t, 300<<10, 13)
	foreign, err := other.bs.Get(t.Context(), other.root)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("broken peer alone", func(t *testing.T) {
		b := newFetcher(t, Options{})
		connect(t, b.h, serveBad(t, f.bs, truncated, foreign))
		if b.fetch(t, f.root).Err() == nil {
			t.Fatal("fetch from a truncating peer alone succeeded")
		}
		st := b.Stats()
		if st.Fetches != 1 || st.FilesFetched != 0 || st.FellBack != 1 || st.PeersDropped != 1 {
			t.Errorf("Stats() = %+v, want one fetch, fallen back, one peer dropped", st)
		}
		if st.BlocksReceived == 0 {
			t.Error("the blocks sent before the break were not counted")
		}
	})
	t.Run("broken peer beside an honest one", func(t *testing.T) {
		b := newFetcher(t, Options{})
		connect(t, b.h, serveBad(t, f.bs, wrongBytes, foreign), serve(t, f.bs))
		if err := b.fetch(t, f.root).Err(); err != nil {
			t.Fatalf("fetch: %v", err)
		}
		// The bad peer may have joined after the honest one finished.
		st := b.Stats()
		if st.Fetches != 1 || st.FilesFetched != 1 || st.FellBack != 0 || st.PeersDropped > 1 {
			t.Errorf("Stats() = %+v, want one fetch, done, at most the bad peer dropped", st)
		}
	})
	t.Run("closed by its reader", func(t *testing.T) {
		b := newFetcher(t, Options{})
		connect(t, b.h, serveBad(t, f.bs, stalled, foreign))
		j, err := b.Fetch(testContext(t), f.root, b.store)
		if err != nil || j == nil {
			t.Fatalf("Fetch: job %v, err %v", j, err)
		}
		j.Close()
		st := b.Stats()
		if st.Fetches != 1 || st.FilesFetched != 0 || st.FellBack != 0 || st.PeersDropped != 0 {
			t.Errorf("Stats() = %+v, want one fetch, neither done nor fallen back, no peer dropped", st)
		}
	})
}
