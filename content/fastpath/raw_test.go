package fastpath

import (
	"io"
	"net/http"
	"testing"
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
