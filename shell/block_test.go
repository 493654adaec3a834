package shell_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestBlockPutGetStat(t *testing.T) {
	srv, _ := fakeShell(t)
	data := []byte("a block")
	c := shelltest.RawCid(data).String()
	body, ctype := multipartBody(t, namedFile{name: "blk", data: data})

	put := do(t, newPost(t, srv, "/api/v0/block/put", body, ctype))
	if want := `{"Key":"` + c + `","Size":7}` + "\n"; string(put.body) != want {
		t.Fatalf("block/put body = %q, want %q", put.body, want)
	}

	get := post(t, srv, "/api/v0/block/get?arg="+c)
	if !bytes.Equal(get.body, data) || get.header.Get("X-Stream-Output") != "1" {
		t.Fatalf("block/get = %q (headers %v), want %q", get.body, get.header, data)
	}

	stat := post(t, srv, "/api/v0/block/stat?arg="+c)
	if want := `{"Key":"` + c + `","Size":7}` + "\n"; string(stat.body) != want {
		t.Fatalf("block/stat body = %q, want %q", stat.body, want)
	}
}

func TestBlockPutOptions(t *testing.T) {
	tests := []struct {
		query string
		want  shell.BlockPutOptions
		codec uint64
	}{
		{"", shell.BlockPutOptions{Codec: "raw", MhType: "sha2-256", MhLen: -1}, cid.Raw},
		{"?cid-codec=dag-cbor&mhtype=sha2-512&pin=true", shell.BlockPutOptions{Codec: "dag-cbor", MhType: "sha2-512", MhLen: -1, Pin: true}, cid.DagCBOR},
		{"?format=v0", shell.BlockPutOptions{Codec: "dag-pb", MhType: "sha2-256", MhLen: -1}, cid.DagProtobuf},
		{"?mhlen=20", shell.BlockPutOptions{Codec: "raw", MhType: "sha2-256", MhLen: 20}, cid.Raw},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			srv, b := fakeShell(t)
			body, ctype := multipartBody(t, namedFile{name: "blk", data: []byte("data")})
			r := do(t, newPost(t, srv, "/api/v0/block/put"+tt.query, body, ctype))
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if got := b.LastPut(); got != tt.want {
				t.Fatalf("backend got %+v, want %+v", got, tt.want)
			}
			key := jsonLines[struct{ Key string }](t, r.body)[0].Key
			if c, err := cid.Decode(key); err != nil || c.Prefix().Codec != tt.codec {
				t.Fatalf("Key %q: codec %v, err %v; want codec %d", key, c.Prefix().Codec, err, tt.codec)
			}
		})
	}
}

func TestBlockPutRejects(t *testing.T) {
	small := []byte("x")
	big := bytes.Repeat([]byte{1}, 2<<20+1)
	tests := []struct {
		name, query string
		data        []byte
		want        string
	}{
		{"unknown codec", "?cid-codec=nope", small, `unknown cid-codec "nope"`},
		{"unknown hash", "?mhtype=md9", small, `unknown mhtype "md9"`},
		{"big block", "", big, "pass allow-big-block=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeShell(t)
			body, ctype := multipartBody(t, namedFile{name: "blk", data: tt.data})
			wantError(t, do(t, newPost(t, srv, "/api/v0/block/put"+tt.query, body, ctype)), http.StatusBadRequest, tt.want)
		})
	}
}

func TestBlockPutAllowsBigBlockWhenAsked(t *testing.T) {
	srv, _ := fakeShell(t)
	big := bytes.Repeat([]byte{1}, 2<<20+1)
	body, ctype := multipartBody(t, namedFile{name: "blk", data: big})
	r := do(t, newPost(t, srv, "/api/v0/block/put?allow-big-block=true", body, ctype))
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	sum, _ := mh.Sum(big, mh.SHA2_256, -1)
	if want := cid.NewCidV1(cid.Raw, sum).String(); jsonLines[struct{ Key string }](t, r.body)[0].Key != want {
		t.Fatalf("body %s, want Key %s", r.body, want)
	}
}

func TestBlockGetNotFoundWithinTimeout(t *testing.T) {
	srv, _ := fakeShell(t)
	c := shelltest.RawCid([]byte("nobody has this")).String()
	for _, cmd := range []string{"block/get", "block/stat"} {
		r := post(t, srv, "/api/v0/"+cmd+"?arg="+c+"&timeout=20ms")
		wantError(t, r, http.StatusGatewayTimeout, "content "+c+" not found within 20ms")
	}
}
