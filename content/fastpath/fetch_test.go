package fastpath

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
	"github.com/libp2p/go-libp2p/core/host"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
)

func TestFetchFromOnePeer(t *testing.T) {
	f := newFile(t, 3<<20+12345, 1)
	a := serve(t, f.bs)
	b := newFetcher(t, Options{})
	connect(t, b.h, a)

	j := b.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatalf("fetched %d bytes, differing from the file's %d", len(got), len(f.data))
	}
	if got := j.Received()[a.ID()]; got < int64(len(f.data)) {
		t.Fatalf("%d bytes received from the peer, want at least the file's %d", got, len(f.data))
	}
}

// TestFetchSplitsAcrossPeers: three peers hold the file; each sends part.
// All three start together however loaded the machine: every probe is
// answered well within the long join grace, and the fetch starts as soon
// as all are.
func TestFetchSplitsAcrossPeers(t *testing.T) {
	f := newFile(t, 24<<20, 2)
	providers := []host.Host{serve(t, f.bs), serve(t, f.bs), serve(t, f.bs)}
	b := newFetcher(t, Options{JoinGrace: 5 * time.Second})
	connect(t, b.h, providers...)

	j := b.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatal("fetched file differs")
	}
	var total int64
	for i, p := range providers {
		got := j.Received()[p.ID()]
		if got == 0 {
			t.Errorf("provider %d sent nothing", i)
		}
		total += got
	}
	// Ranges are cut on leaf boundaries, so a leaf comes twice only as a
	// copy near the end (endgame): at most one per idle peer, of a span
	// too small to halve.
	if total > int64(len(f.data))+int64(len(providers)-1)*2*stealMin+256<<10 {
		t.Errorf("%d bytes received for a %d-byte file", total, len(f.data))
	}
}

// dyingStore serves blocks until after gets of them, then kills its host,
// as a provider that crashes in the middle of a transfer.
type dyingStore struct {
	blockstore.Blockstore
	after int64
	gets  atomic.Int64
	kill  func()
}

func (s *dyingStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if n := s.gets.Add(1); n == s.after {
		go s.kill()
	} else if n > s.after {
		return nil, errors.New("provider gone")
	}
	return s.Blockstore.Get(ctx, k)
}

// TestFetchSurvivesAKilledPeer: of three peers sharing a fetch, one dies
// mid-transfer; its range goes to the others and the file is complete.
func TestFetchSurvivesAKilledPeer(t *testing.T) {
	f := newFile(t, 24<<20, 3)
	b := newFetcher(t, Options{JoinGrace: 5 * time.Second})
	dying := &dyingStore{Blockstore: f.bs, after: 12}
	victim := serve(t, dying)
	dying.kill = func() { victim.Close() }
	connect(t, b.h, serve(t, f.bs), victim, serve(t, f.bs))

	j := b.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatal("fetched file differs")
	}
	got := j.Received()[victim.ID()]
	if got == 0 || got >= int64(len(f.data))/3 {
		t.Fatalf("the killed peer sent %d bytes; want some, less than its third", got)
	}
	if j.peers[victim.ID()] {
		t.Fatal("the killed peer was not dropped")
	}
}

// Ways a bad provider breaks its CAR stream.
const (
	wrongBytes = "wrong bytes"
	extraBlock = "extra block"
	outOfOrder = "out of order"
	truncated  = "truncated"
	stalled    = "stalled"
)

// serveBad starts a provider that answers the root honestly and breaks
// every CAR it sends in the given way. foreign is a valid block from
// another DAG, for extraBlock.
func serveBad(t *testing.T, bs blockstore.Blockstore, mode string, foreign blocks.Block) host.Host {
	t.Helper()
	h := newHost(t)
	done := make(chan struct{})
	srv := &libp2phttp.Host{StreamHost: h, ServeMux: http.NewServeMux()}
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
		from, to, _ := strings.Cut(r.URL.Query().Get("entity-bytes"), ":")
		p := trustless.Params{Scope: "entity"}
		p.From, _ = strconv.ParseInt(from, 10, 64)
		p.To, _ = strconv.ParseInt(to, 10, 64)
		p.HasTo = true
		var good bytes.Buffer
		get := func(ctx context.Context, c cid.Cid) ([]byte, error) {
			b, err := bs.Get(ctx, c)
			if err != nil {
				return nil, err
			}
			return b.RawData(), nil
		}
		if err := trustless.WriteCAR(r.Context(), &good, get, root, p); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		secs := splitCAR(t, good.Bytes())
		switch mode {
		// Early in the stream, before a peer taking half the range could
		// cut it short. secs[0] is the root and secs[1] a file node;
		// leaves follow.
		case wrongBytes:
			leaf := secs[3]
			bad := append([]byte{^leaf.RawData()[0]}, leaf.RawData()[1:]...)
			secs[3], _ = blocks.NewBlockWithCid(bad, leaf.Cid())
		case extraBlock:
			secs = append(secs[:3:3], append([]blocks.Block{foreign}, secs[3:]...)...)
		case outOfOrder:
			secs[2], secs[3] = secs[3], secs[2]
		}
		out := joinCAR(t, root, secs)
		// Three sections and part of the fourth, early enough that no
		// other peer can have taken that part of the range yet.
		cut := len(joinCAR(t, root, secs[:3])) + 100
		switch mode {
		case truncated:
			out = out[:cut]
		case stalled:
			w.Write(out[:cut])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		w.Write(out)
	})
	go srv.Serve()
	t.Cleanup(func() {
		close(done)
		srv.Close()
	})
	return h
}

func splitCAR(t *testing.T, data []byte) []blocks.Block {
	br, err := car.NewBlockReader(bytes.NewReader(data))
	if err != nil {
		t.Error(err)
		return nil
	}
	var out []blocks.Block
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Error(err)
			return out
		}
		out = append(out, b)
	}
}

func joinCAR(t *testing.T, root cid.Cid, secs []blocks.Block) []byte {
	var buf bytes.Buffer
	w, err := storage.NewWritable(&buf, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(true))
	if err != nil {
		t.Error(err)
		return nil
	}
	for _, b := range secs {
		if err := w.Put(context.Background(), b.Cid().KeyString(), b.RawData()); err != nil {
			t.Error(err)
		}
	}
	return buf.Bytes()
}

// TestFetchFailsOverFromBadPeers: a provider that sends a wrong block, an
// extra block, blocks out of order, a truncated stream or stalls is
// dropped; its range is fetched from an honest provider, and nothing it
// sent that was not part of the file is stored. Alone, it makes the fetch
// fail, with only good blocks stored.
func TestFetchFailsOverFromBadPeers(t *testing.T) {
	f := newFile(t, 8<<20, 4)
	other := newFile(t, 300<<10, 5)
	foreign, err := other.bs.Get(t.Context(), other.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{wrongBytes, extraBlock, outOfOrder, truncated, stalled} {
		t.Run(mode, func(t *testing.T) {
			// Beside an honest peer no stall timeout is needed: the
			// honest peer's copy overtakes a staller near the end. A
			// long one keeps an honest peer on a loaded machine from
			// ever being taken for a stalled one.
			bad := serveBad(t, f.bs, mode, foreign)
			b := newFetcher(t, Options{StallTimeout: time.Minute})
			connect(t, b.h, bad, serve(t, f.bs))
			j := b.fetch(t, f.root)
			if err := j.Err(); err != nil {
				t.Fatalf("fetch with an honest peer beside: %v", err)
			}
			if got := b.readLocal(t, f.root); !bytes.Equal(got, f.data) {
				t.Fatal("fetched file differs")
			}
			// The bad peer may be dropped, overtaken near the end,
			// or not needed at all when the honest peer's copy
			// wins first; what it sent is never stored.
			b.onlyGoodBlocks(t, f.bs)

			// Alone, the staller is dropped after the stall timeout:
			// short, to keep the test quick.
			alone := newFetcher(t, Options{StallTimeout: 2 * time.Second})
			connect(t, alone.h, bad)
			j = alone.fetch(t, f.root)
			if j.Err() == nil {
				t.Fatal("fetch from the bad peer alone succeeded")
			}
			if j.peers[bad.ID()] {
				t.Fatal("the bad peer was not dropped")
			}
			if !alone.scores.isPenalized(bad.ID()) {
				t.Fatalf("the bad peer's penalty is %.2f", alone.scores.penalty(bad.ID()))
			}
			alone.onlyGoodBlocks(t, f.bs)
		})
	}
}

// TestFetchNoPeerServesIt: no connected peer holds the root, or none is
// connected: Fetch says so without error, for the caller to use Bitswap.
func TestFetchNoPeerServesIt(t *testing.T) {
	f := newFile(t, 1<<20, 6)
	b := newFetcher(t, Options{})
	if j, err := b.Fetch(testContext(t), f.root, b.store); j != nil || err != nil {
		t.Fatalf("with no peers: job %v, err %v", j, err)
	}
	connect(t, b.h, serve(t, newStore()))
	if j, err := b.Fetch(testContext(t), f.root, b.store); j != nil || err != nil {
		t.Fatalf("with a peer lacking the root: job %v, err %v", j, err)
	}
}

// TestFetchRange: a byte range brings the leaves under it (and the nodes
// above them), not the rest of the file.
func TestFetchRange(t *testing.T) {
	f := newFile(t, 8<<20, 8)
	providers := []host.Host{serve(t, f.bs), serve(t, f.bs)}
	b := newFetcher(t, Options{})
	connect(t, b.h, providers...)

	const from, to = 5<<20 + 100, 6 << 20 // 256 KiB leaves 20 to 24
	ctx := testContext(t)
	j, err := b.FetchRange(ctx, f.root, from, to, b.store)
	if err != nil || j == nil {
		t.Fatalf("FetchRange: %v, %v", j, err)
	}
	select {
	case <-j.Ended():
	case <-ctx.Done():
		t.Fatal("fetch did not end")
	}
	j.Close()
	if err := j.Err(); err != nil {
		t.Fatal(err)
	}
	b.onlyGoodBlocks(t, f.bs)
	// The store lists every key as a raw CID (it keys by multihash), so
	// leaves are told apart by size.
	var leafBytes int64
	keys, _ := b.bs.AllKeysChan(ctx)
	for k := range keys {
		if n, err := b.bs.GetSize(ctx, k); err == nil && n == 256<<10 {
			leafBytes += int64(n)
		}
	}
	if want := int64(5 * 256 << 10); leafBytes != want {
		t.Fatalf("%d bytes of leaves stored, want the %d under the range", leafBytes, want)
	}
}
