package fastpath

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"

	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	gostream "github.com/libp2p/go-libp2p/p2p/net/gostream"
)

// TestRawBlockAnswersAsBoxoDoes checks that the direct answer to a raw
// block request carries the bytes and headers boxo's gateway gives for the
// same block (asked with a filename, which only boxo's handler takes), and
// that a block the peer lacks still gets boxo's 404.
func TestRawBlockAnswersAsBoxoDoes(t *testing.T) {
	ctx := testContext(t)
	f := newFile(t, 1<<20, 3)
	a := serve(t, f.bs)
	r := newFetcher(t, Options{})
	connect(t, r.h, a)
	get := func(path, accept string) (*http.Response, []byte) {
		t.Helper()
		resp, err := r.client.get(ctx, a.ID(), path, accept)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return resp, body
	}
	root := f.root.String()
	blk, err := f.bs.Get(ctx, f.root)
	if err != nil {
		t.Fatal(err)
	}
	boxo, boxoBody := get("/ipfs/"+root+"?format=raw&filename="+root+".bin", acceptRaw)
	if boxo.StatusCode != http.StatusOK || string(boxoBody) != string(blk.RawData()) {
		t.Fatalf("boxo: %s, %d bytes; want the root's %d", boxo.Status, len(boxoBody), len(blk.RawData()))
	}
	for _, ask := range []struct{ path, accept string }{
		{"/ipfs/" + root + "?format=raw", acceptRaw},
		{"/ipfs/" + root + "?format=raw", "*/*"},
		{"/ipfs/" + root, acceptRaw},
	} {
		resp, body := get(ask.path, ask.accept)
		if resp.StatusCode != http.StatusOK || string(body) != string(blk.RawData()) {
			t.Fatalf("%s: %s, %d bytes; want the root's %d", ask.path, resp.Status, len(body), len(blk.RawData()))
		}
		for _, h := range []string{"Content-Type", "Content-Length", "Content-Disposition", "Cache-Control", "Etag", "X-Content-Type-Options", "X-Ipfs-Roots"} {
			if got, want := resp.Header.Get(h), boxo.Header.Get(h); got != want {
				t.Errorf("%s (Accept %s): %s %q, boxo sends %q", ask.path, ask.accept, h, got, want)
			}
		}
	}
	other := newFile(t, 1<<10, 4)
	if resp, _ := get("/ipfs/"+other.root.String()+"?format=raw", acceptRaw); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a block the peer lacks: %s, want 404", resp.Status)
	}
}

// TestProbeBeforeThePrefixIsKnown: right after a connect the fetcher asks
// for the root at "/" while it learns where the peer serves the gateway.
// This peer serves junk there and the gateway under /gw/, and answers the
// well-known request only once the junk went out, so the guess is always
// tried first: the fetch must refuse the junk, learn /gw/ and get the
// right bytes, storing nothing bad.
func TestProbeBeforeThePrefixIsKnown(t *testing.T) {
	ctx := testContext(t)
	f := newFile(t, 1<<10, 9)
	blk, err := f.bs.Get(ctx, f.root)
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t)
	junkSent := make(chan struct{})
	var junk sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc(libp2phttp.WellKnownProtocols, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-junkSent:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"` + string(ProtocolID) + `":{"path":"/gw/"}}`))
	})
	mux.HandleFunc("/ipfs/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("not the block you asked for"))
		junk.Do(func() { close(junkSent) })
	})
	mux.HandleFunc("/gw/ipfs/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(blk.RawData())
	})
	l, err := gostream.Listen(h, libp2phttp.ProtocolIDForMultistreamSelect)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	r := newFetcher(t, Options{})
	connect(t, r.h, h)
	j := r.fetch(t, f.root)
	if err := j.Err(); err != nil {
		t.Fatalf("fetch: %v", err)
	}
	select {
	case <-junkSent:
	default:
		t.Fatal("the root was never asked for at / before the prefix was known")
	}
	if got := r.readLocal(t, f.root); !bytes.Equal(got, f.data) {
		t.Fatalf("fetched %q, want the file's %d bytes", got, len(f.data))
	}
	r.onlyGoodBlocks(t, f.bs)
}
