package shell

import (
	"net/http/httptest"
	"testing"
)

// TestPrefetchTarget: which gateway requests start a fetch, of what bytes.
func TestPrefetchTarget(t *testing.T) {
	const c = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
	tests := []struct {
		url, rangeHdr, accept string
		ok                    bool
		from, to              int64
	}{
		{url: "/ipfs/" + c, ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c + "/", ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c, rangeHdr: "bytes=10-99", ok: true, from: 10, to: 99},
		{url: "/ipfs/" + c, rangeHdr: "bytes=10-", ok: true, from: 10, to: -1},
		{url: "/ipfs/" + c, rangeHdr: "bytes=-500", ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c, rangeHdr: "bytes=0-1,5-9", ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c + "?format=car", ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c + "?format=car&dag-scope=entity&entity-bytes=100:*", ok: true, from: 100, to: -1},
		{url: "/ipfs/" + c + "?format=car&entity-bytes=100:200", ok: true, from: 100, to: 200},
		{url: "/ipfs/" + c + "?format=car&entity-bytes=-100:*"},
		{url: "/ipfs/" + c, accept: "application/vnd.ipld.car", ok: true, from: 0, to: -1},
		{url: "/ipfs/" + c + "?format=raw"},
		{url: "/ipfs/" + c, accept: "application/vnd.ipld.raw"},
		{url: "/ipfs/" + c + "?format=car&dag-scope=block"},
		{url: "/ipfs/" + c + "/sub/file"},
		{url: "/ipfs/not-a-cid"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.rangeHdr != "" {
			r.Header.Set("Range", tt.rangeHdr)
		}
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		root, from, to, ok := prefetchTarget(r)
		if ok != tt.ok || (ok && (root.String() != c || from != tt.from || to != tt.to)) {
			t.Errorf("%s (Range %q, Accept %q): %v %d %d %v, want %v %d %d", tt.url, tt.rangeHdr, tt.accept, root, from, to, ok, tt.ok, tt.from, tt.to)
		}
	}
}
