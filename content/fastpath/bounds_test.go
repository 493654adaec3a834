package fastpath

import (
	"bufio"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
)

// waitGoroutines waits until at most want goroutines run, or fails the
// test when ctx ends first; streams and their readers end a moment after
// the call that used them returns.
func waitGoroutines(t *testing.T, want int) {
	t.Helper()
	ctx := testContext(t)
	for n := runtime.NumGoroutine(); n > want; n = runtime.NumGoroutine() {
		select {
		case <-ctx.Done():
			t.Fatalf("%d goroutines, want at most %d", n, want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestEndlessResponseHeaderIsRefused: a peer answers with a header that
// never ends. The client stops reading at maxHeaderBytes with a clear
// error, and nothing it started stays behind.
func TestEndlessResponseHeaderIsRefused(t *testing.T) {
	f := newFile(t, 1<<20, 11)
	h := newHost(t)
	srv := &libp2phttp.Host{StreamHost: h, ServeMux: http.NewServeMux()}
	srv.WellKnownHandler.AddProtocolMeta(ProtocolID, libp2phttp.ProtocolMeta{Path: "/"})
	junk := strings.Repeat("x", 4<<10)
	srv.ServeMux.HandleFunc("/ipfs/", func(w http.ResponseWriter, r *http.Request) {
		// 4 MiB of header, far past the bound; a real endless one
		// would only take longer to refuse.
		for i := range 1024 {
			w.Header().Set(fmt.Sprintf("X-Junk-%d", i), junk)
		}
		w.WriteHeader(http.StatusOK)
	})
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })

	b := newFetcher(t, Options{})
	connect(t, b.h, h)
	ctx := testContext(t)
	// Warm up: identify, the connection's own goroutines.
	if _, err := b.probe(ctx, h.ID(), f.root); !errors.Is(err, errHeaderTooLarge) {
		t.Fatalf("probe: %v, want %v", err, errHeaderTooLarge)
	}
	before := runtime.NumGoroutine()
	for range 20 {
		if _, err := b.probe(ctx, h.ID(), f.root); !errors.Is(err, errHeaderTooLarge) {
			t.Fatalf("probe: %v, want %v", err, errHeaderTooLarge)
		}
	}
	waitGoroutines(t, before+2)
	if j, err := b.Fetch(ctx, f.root, b.store); j != nil || err != nil {
		t.Fatalf("fetch from a peer whose every answer is refused: job %v, err %v", j, err)
	}
}

// TestServerDropsAPeerThatNeverReads: a peer asks for a large CAR and
// never reads the answer. Once the stream's window is full, the server's
// write waits writeIdle at most: the request ends while the peer still
// holds the stream open.
func TestServerDropsAPeerThatNeverReads(t *testing.T) {
	f := newFile(t, 8<<20, 12)
	a := newHost(t)
	s, err := newServer(a, blockservice.New(f.bs, nil), 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	b := newHost(t)
	connect(t, b, a)
	ctx := testContext(t)
	before := runtime.NumGoroutine()
	const peers = 5
	for range peers {
		st, err := b.NewStream(ctx, a.ID(), libp2phttp.ProtocolIDForMultistreamSelect)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Reset()
		req, _ := http.NewRequest(http.MethodGet, "/ipfs/"+f.root.String()+"?format=car", nil)
		req.Header.Set("Accept", acceptCAR)
		if err := req.Write(st); err != nil {
			t.Fatal(err)
		}
		// Read the status line alone: the request is being answered.
		if _, err := bufio.NewReaderSize(st, 16).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			t.Fatalf("%d requests still being answered to peers that never read", s.inflight.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	// The serving goroutines are gone; the streams stay open on b's side.
	waitGoroutines(t, before+2*peers)
	if served := s.BytesServed(); served >= uint64(len(f.data)) {
		t.Fatalf("%d bytes served to peers that read none", served)
	}
}
