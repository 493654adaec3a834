package fastpath

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
)

// staller is a provider that answers the root, then sends the first three
// sections of every CAR and holds the stream until the test releases it
// or the fetcher resets it.
type staller struct {
	host.Host
	release  chan struct{}
	released atomic.Int64 // streams that saw release before their reset
	streams  atomic.Int64 // CAR requests answered
}

func serveStaller(t *testing.T, bs blockstore.Blockstore) *staller {
	t.Helper()
	st := &staller{Host: newHost(t), release: make(chan struct{})}
	srv := &libp2phttp.Host{StreamHost: st.Host, ServeMux: http.NewServeMux()}
	srv.WellKnownHandler.AddProtocolMeta(ProtocolID, libp2phttp.ProtocolMeta{Path: "/"})
	srv.ServeMux.HandleFunc("/ipfs/", func(w http.ResponseWriter, r *http.Request) {
		root, err := cid.Decode(strings.TrimPrefix(r.URL.Path, "/ipfs/"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("format") == "raw" {
			blk, err := bs.Get(r.Context(), root)
			if err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			w.Write(blk.RawData())
			return
		}
		st.streams.Add(1)
		from, to, _ := strings.Cut(r.URL.Query().Get("entity-bytes"), ":")
		p := trustless.Params{Scope: "entity", HasTo: true}
		p.From, _ = strconv.ParseInt(from, 10, 64)
		p.To, _ = strconv.ParseInt(to, 10, 64)
		var car bytes.Buffer
		get := func(ctx context.Context, c cid.Cid) ([]byte, error) {
			b, err := bs.Get(ctx, c)
			if err != nil {
				return nil, err
			}
			return b.RawData(), nil
		}
		if err := trustless.WriteCAR(r.Context(), &car, get, root, p); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(joinCAR(t, root, splitCAR(t, car.Bytes())[:3]))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-st.release:
			st.released.Add(1)
		}
	})
	go srv.Serve()
	t.Cleanup(func() {
		close(st.release)
		srv.Close()
	})
	return st
}

// TestEndgameDoesNotWaitForAStaller: an honest peer and a staller share a
// fetch. Near the end, the honest peer also asks for what the staller
// holds, and its copy wins: the fetch ends although the stall timeout is
// far beyond the test's, before any staller stream was released. The
// staller is then penalized: in the next fetch it takes no span of its
// own.
func TestEndgameDoesNotWaitForAStaller(t *testing.T) {
	f := newFile(t, 8<<20, 13)
	bad := serveStaller(t, f.bs)
	honest := serve(t, f.bs)
	b := newFetcher(t, Options{StallTimeout: time.Hour, JoinGrace: 5 * time.Second})
	connect(t, b.h, bad, honest)

	j := b.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if n := bad.released.Load(); n != 0 {
		t.Fatalf("%d staller streams were released before the fetch ended", n)
	}
	if bad.streams.Load() == 0 {
		t.Fatal("the staller was never asked for a range: the test proves nothing")
	}
	if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatal("fetched file differs")
	}
	b.onlyGoodBlocks(t, f.bs)
	fromBad, fromHonest := j.Received()[bad.ID()], j.Received()[honest.ID()]
	// The staller sends the root, one inner node and one leaf a stream.
	if fromBad > 2*(256<<10+4<<10) {
		t.Fatalf("%d bytes came from the staller", fromBad)
	}
	if fromHonest < int64(len(f.data))-fromBad {
		t.Fatalf("%d bytes came from the honest peer, %d from the staller, for a %d-byte file", fromHonest, fromBad, len(f.data))
	}
	if !b.scores.isPenalized(bad.ID()) || b.scores.isPenalized(honest.ID()) {
		t.Fatalf("penalties: staller %.2f, honest %.2f", b.scores.penalty(bad.ID()), b.scores.penalty(honest.ID()))
	}
	if order := b.candidates(testContext(t)); len(order) != 2 || order[1] != bad.ID() {
		t.Fatalf("candidates %v, want the staller %s last", order, bad.ID())
	}

	// The next fetch, into an empty store, gives the staller no span.
	again := &fetcher{Fetcher: b.Fetcher, h: b.h, bs: newStore()}
	j = again.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("second fetch: %v", err)
	}
	if got := again.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatal("second fetch: file differs")
	}
	if n := j.owned[bad.ID()]; n != 0 {
		t.Fatalf("second fetch: the staller took %d spans of its own", n)
	}
	if n := bad.released.Load(); n != 0 {
		t.Fatalf("%d staller streams were released before the fetches ended", n)
	}
}

// TestScoresDecay: a penalty halves every half-life; a penalized peer is
// ranked after the others until its penalty fades below the threshold.
func TestScoresDecay(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := newScores(func() time.Time { return now })
	a, b, c := peer.ID("a"), peer.ID("b"), peer.ID("c")
	s.add(b, penaltyStall)
	s.add(c, penaltyBad)
	if !s.isPenalized(b) || !s.isPenalized(c) || s.isPenalized(a) {
		t.Fatalf("penalties a %.2f b %.2f c %.2f", s.penalty(a), s.penalty(b), s.penalty(c))
	}
	order := []peer.ID{c, b, a}
	s.rank(order)
	if order[0] != a || order[1] != b || order[2] != c {
		t.Fatalf("ranked %v, want [a b c]", order)
	}

	now = now.Add(scoreHalfLife)
	if got := s.penalty(b); got < 0.49 || got > 0.51 {
		t.Fatalf("after one half-life the stall's penalty is %.3f, want 0.5", got)
	}
	now = now.Add(scoreHalfLife)
	if s.isPenalized(b) || !s.isPenalized(c) {
		t.Fatalf("after two half-lives: b %.2f (want forgiven), c %.2f (want still penalized)", s.penalty(b), s.penalty(c))
	}
	// A new penalty adds to what is left of the old.
	s.add(b, penaltyStall)
	if got := s.penalty(b); got < 1.24 || got > 1.26 {
		t.Fatalf("penalty %.3f, want 1.25", got)
	}
}
