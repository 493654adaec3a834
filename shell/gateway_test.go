package shell_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
	car "github.com/ipld/go-car/v2"
	multibase "github.com/multiformats/go-multibase"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairnnet/cairn/shell"
)

// gatewayChunk is the leaf size of the fixture file, small so that a
// 300 KiB file has several leaves for entity-bytes to choose among.
const gatewayChunk = 64 << 10

// hangingExchange holds no block and never finds one: every fetch waits for
// its context, as a fetch of content nobody provides does on a real network.
type hangingExchange struct{}

func (hangingExchange) GetBlock(ctx context.Context, _ cid.Cid) (blocks.Block, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (hangingExchange) GetBlocks(ctx context.Context, _ []cid.Cid) (<-chan blocks.Block, error) {
	ch := make(chan blocks.Block)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch, nil
}

func (hangingExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }
func (hangingExchange) Close() error                                           { return nil }

// gatewayFixture is a gateway over a store holding a multi-leaf file and a
// directory {big.bin: that file, hello.txt}.
type gatewayFixture struct {
	srv    *httptest.Server
	client *http.Client // follows redirects to subdomains of localhost
	bstore blockstore.Blockstore
	dag    ipld.DAGService
	file   cid.Cid // the multi-leaf file
	data   []byte  // its bytes
	dir    cid.Cid
	hello  cid.Cid // a one-block text file inside dir
}

const helloText = "hello, trustless world\n"

func newGatewayFixture(t *testing.T, cfg shell.Config, timeout time.Duration) *gatewayFixture {
	t.Helper()
	ctx := t.Context()
	bstore := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	bserv := blockservice.New(bstore, hangingExchange{})
	dag := merkledag.NewDAGService(bserv)
	f := &gatewayFixture{bstore: bstore, dag: dag, data: make([]byte, 300<<10)}
	rand.NewChaCha8([32]byte{1}).Read(f.data)

	fileNode := importFile(t, dag, f.data)
	helloNode := importFile(t, dag, []byte(helloText))
	dir, err := uio.NewDirectory(dag)
	if err != nil {
		t.Fatal(err)
	}
	dir.SetCidBuilder(cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256})
	for name, nd := range map[string]ipld.Node{"big.bin": fileNode, "hello.txt": helloNode} {
		if err := dir.AddChild(ctx, name, nd); err != nil {
			t.Fatal(err)
		}
	}
	dirNode, err := dir.GetNode()
	if err != nil {
		t.Fatal(err)
	}
	if err := dag.Add(ctx, dirNode); err != nil {
		t.Fatal(err)
	}
	f.file, f.hello, f.dir = fileNode.Cid(), helloNode.Cid(), dirNode.Cid()

	h, err := shell.NewGateway(cfg, shell.GatewaySource{Blocks: bserv, RetrievalTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	f.client = loopbackClient(f.srv.Listener.Addr().String())
	return f
}

// subdomainURL is the origin of root on the gateway, with rest after it.
func (f *gatewayFixture) subdomainURL(root cid.Cid, rest string) string {
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	v1, err := cid.NewCidV1(root.Type(), root.Hash()).StringOfBase(multibase.Base32)
	if err != nil {
		panic(err)
	}
	return "http://" + v1 + ".ipfs.localhost:" + port + rest
}

// loopbackClient dials addr whatever the URL's host, as a browser reaches
// {cid}.ipfs.localhost on the loopback address without asking DNS (Go's
// resolver would ask it, and find nothing).
func loopbackClient(addr string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

// importFile stores data as a balanced UnixFS DAG with raw leaves.
func importFile(t *testing.T, dag ipld.DAGService, data []byte) ipld.Node {
	t.Helper()
	params := helpers.DagBuilderParams{
		Dagserv:    dag,
		Maxlinks:   helpers.DefaultLinksPerBlock,
		RawLeaves:  true,
		CidBuilder: cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256},
	}
	db, err := params.New(chunk.NewSizeSplitter(bytes.NewReader(data), gatewayChunk))
	if err != nil {
		t.Fatal(err)
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		t.Fatal(err)
	}
	return nd
}

// get sends method to path on 127.0.0.1 with the given headers, following
// redirects (to a subdomain origin, for content a browser would render).
func (f *gatewayFixture) get(t *testing.T, method, path string, header ...string) result {
	t.Helper()
	return f.getURL(t, method, f.srv.URL+path, header...)
}

// getURL is get for a whole URL, whose host the client dials on the
// gateway's port.
func (f *gatewayFixture) getURL(t *testing.T, method, url string, header ...string) result {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body, trailer: resp.Trailer, url: resp.Request.URL.String()}
}

// dagCIDs lists every block under root.
func (f *gatewayFixture) dagCIDs(t *testing.T, root cid.Cid) map[cid.Cid]bool {
	t.Helper()
	set := map[cid.Cid]bool{root: true}
	err := merkledag.Walk(t.Context(), merkledag.GetLinksWithDAG(f.dag), root, func(k cid.Cid) bool {
		set[k] = true
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// leaves lists the file's leaves in order.
func (f *gatewayFixture) leaves(t *testing.T) []cid.Cid {
	t.Helper()
	nd, err := f.dag.Get(t.Context(), f.file)
	if err != nil {
		t.Fatal(err)
	}
	var out []cid.Cid
	for _, l := range nd.Links() {
		out = append(out, l.Cid)
	}
	if len(out) != (len(f.data)+gatewayChunk-1)/gatewayChunk {
		t.Fatalf("fixture file has %d leaves, want one per %d bytes", len(out), gatewayChunk)
	}
	return out
}

// readCAR parses a CAR body, checks that every block hashes to its CID, and
// returns the roots and the blocks in order.
func readCAR(t *testing.T, body []byte) ([]cid.Cid, []blocks.Block) {
	t.Helper()
	br, err := car.NewBlockReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("CAR does not parse: %v", err)
	}
	var got []blocks.Block
	for {
		b, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("CAR block %d: %v", len(got), err)
		}
		want, err := b.Cid().Prefix().Sum(b.RawData())
		if err != nil {
			t.Fatal(err)
		}
		if !want.Equals(b.Cid()) {
			t.Fatalf("CAR block %d claims %s but hashes to %s", len(got), b.Cid(), want)
		}
		got = append(got, b)
	}
	return br.Roots, got
}

func wantStatus(t *testing.T, r result, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %.300q", r.status, status, r.body)
	}
}

func wantHeader(t *testing.T, r result, name, want string) {
	t.Helper()
	if got := r.header.Get(name); got != want {
		t.Fatalf("%s: %q, want %q", name, got, want)
	}
}

// wantImmutable checks the caching headers the gateway-conformance suite
// expects on a response for an immutable CID: an Etag, and Cache-Control
// public, immutable, with a max-age of at least 29030400 s (48 weeks).
func wantImmutable(t *testing.T, r result) {
	t.Helper()
	if r.header.Get("Etag") == "" {
		t.Fatal("no Etag")
	}
	cc := r.header.Get("Cache-Control")
	directives := map[string]string{}
	for _, d := range strings.Split(strings.ReplaceAll(cc, " ", ""), ",") {
		k, v, _ := strings.Cut(d, "=")
		directives[k] = v
	}
	_, public := directives["public"]
	_, immutable := directives["immutable"]
	maxAge, err := strconv.Atoi(directives["max-age"])
	if !public || !immutable || err != nil || maxAge < 29030400 {
		t.Fatalf("Cache-Control %q, want public, immutable, max-age >= 29030400", cc)
	}
}

// wantMatch checks a header against a regular expression.
func wantMatch(t *testing.T, r result, name, pattern string) {
	t.Helper()
	if got := r.header.Get(name); !regexp.MustCompile(pattern).MatchString(got) {
		t.Fatalf("%s: %q, want a match for %s", name, got, pattern)
	}
}

func TestGatewayRawBlock(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	leaf := f.leaves(t)[1]
	for name, req := range map[string][2]string{
		"accept": {"/ipfs/" + leaf.String(), "application/vnd.ipld.raw"},
		"format": {"/ipfs/" + leaf.String() + "?format=raw", ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.get(t, http.MethodGet, req[0], "Accept", req[1])
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Content-Type", "application/vnd.ipld.raw")
			wantHeader(t, r, "X-Content-Type-Options", "nosniff")
			wantHeader(t, r, "Etag", `"`+leaf.String()+`.raw"`)
			wantHeader(t, r, "Content-Length", strconv.Itoa(gatewayChunk))
			wantHeader(t, r, "X-Ipfs-Path", "/ipfs/"+leaf.String())
			wantMatch(t, r, "X-Ipfs-Roots", leaf.String())
			wantMatch(t, r, "Content-Disposition", `^attachment;\s*filename=".*\.bin"`)
			wantImmutable(t, r)
			if !bytes.Equal(r.body, f.data[gatewayChunk:2*gatewayChunk]) {
				t.Fatalf("body is %d bytes, not the second leaf", len(r.body))
			}
		})
	}
	t.Run("dag-pb root", func(t *testing.T) {
		r := f.get(t, http.MethodGet, "/ipfs/"+f.file.String(), "Accept", "application/vnd.ipld.raw")
		wantStatus(t, r, http.StatusOK)
		got, err := f.file.Prefix().Sum(r.body)
		if err != nil || !got.Equals(f.file) {
			t.Fatalf("raw root block hashes to %s (%v), want %s", got, err, f.file)
		}
	})
}

func TestGatewayCARAll(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	for name, req := range map[string][2]string{
		"accept":       {"/ipfs/" + f.dir.String(), "application/vnd.ipld.car"},
		"format+scope": {"/ipfs/" + f.dir.String() + "?format=car&dag-scope=all", ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.get(t, http.MethodGet, req[0], "Accept", req[1])
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "Content-Type", "application/vnd.ipld.car; version=1; order=dfs; dups=n")
			wantHeader(t, r, "X-Content-Type-Options", "nosniff")
			// A CAR stream has no byte ranges; sub-DAGs are asked for instead.
			wantHeader(t, r, "Accept-Ranges", "none")
			wantMatch(t, r, "Content-Disposition", `^attachment;\s*filename=".*\.car"`)
			wantImmutable(t, r)
			roots, blks := readCAR(t, r.body)
			if len(roots) != 1 || !roots[0].Equals(f.dir) {
				t.Fatalf("CAR roots %v, want [%s]", roots, f.dir)
			}
			got := map[cid.Cid]bool{}
			for _, b := range blks {
				if got[b.Cid()] {
					t.Fatalf("block %s sent twice despite dups=n", b.Cid())
				}
				got[b.Cid()] = true
			}
			if want := f.dagCIDs(t, f.dir); !maps.Equal(got, want) {
				t.Fatalf("CAR holds %d blocks, want the DAG's %d", len(got), len(want))
			}
			if !blks[0].Cid().Equals(f.dir) {
				t.Fatalf("first block %s, want the root %s (order=dfs)", blks[0].Cid(), f.dir)
			}
		})
	}
}

// Pathing with dag-scope=block: the blocks that prove the path, then the
// block at its end, in that order and nothing else.
func TestGatewayCARScopeBlockOnPath(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	r := f.get(t, http.MethodGet, "/ipfs/"+f.dir.String()+"/big.bin?format=car&dag-scope=block")
	wantStatus(t, r, http.StatusOK)
	_, blks := readCAR(t, r.body)
	if len(blks) != 2 || !blks[0].Cid().Equals(f.dir) || !blks[1].Cid().Equals(f.file) {
		got := make([]cid.Cid, len(blks))
		for i, b := range blks {
			got[i] = b.Cid()
		}
		t.Fatalf("CAR holds %v, want [%s %s]", got, f.dir, f.file)
	}
}

func TestGatewayCAREntityBytes(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	leaves := f.leaves(t)
	// Bytes inside the second and third leaves only.
	from, to := gatewayChunk+10, 2*gatewayChunk+10
	r := f.get(t, http.MethodGet, fmt.Sprintf("/ipfs/%s?format=car&dag-scope=entity&entity-bytes=%d:%d", f.file, from, to))
	wantStatus(t, r, http.StatusOK)
	_, blks := readCAR(t, r.body)
	got := map[cid.Cid]bool{}
	for _, b := range blks {
		got[b.Cid()] = true
	}
	want := map[cid.Cid]bool{f.file: true, leaves[1]: true, leaves[2]: true}
	if !maps.Equal(got, want) {
		t.Fatalf("CAR for entity-bytes=%d:%d holds %v, want the root and leaves 1 and 2 %v",
			from, to, slices.Collect(maps.Keys(got)), slices.Collect(maps.Keys(want)))
	}
}

// The conformance suite's "entity-bytes succeeds even if the gateway is
// missing a block after the requested range": the range 0:1000 needs the
// root and the first leaf only, so a lost last leaf must not matter.
func TestGatewayCAREntityBytesMissingLaterBlock(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, 200*time.Millisecond)
	leaves := f.leaves(t)
	if err := f.bstore.DeleteBlock(t.Context(), leaves[len(leaves)-1]); err != nil {
		t.Fatal(err)
	}
	r := f.get(t, http.MethodGet, "/ipfs/"+f.file.String()+"?format=car&dag-scope=entity&entity-bytes=0:1000")
	wantStatus(t, r, http.StatusOK)
	if e := r.trailer.Get("X-Stream-Error"); e != "" {
		t.Fatalf("stream error %q", e)
	}
	_, blks := readCAR(t, r.body)
	if len(blks) != 2 || !blks[0].Cid().Equals(f.file) || !blks[1].Cid().Equals(leaves[0]) {
		t.Fatalf("CAR holds %d blocks, want the root then the first leaf", len(blks))
	}
}

func TestGatewayFileBytes(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	t.Run("whole", func(t *testing.T) {
		r := f.get(t, http.MethodGet, "/ipfs/"+f.file.String())
		wantStatus(t, r, http.StatusOK)
		wantImmutable(t, r)
		if !bytes.Equal(r.body, f.data) {
			t.Fatalf("body is %d bytes, not the file's %d", len(r.body), len(f.data))
		}
	})
	t.Run("range", func(t *testing.T) {
		// Across a leaf boundary.
		from, to := gatewayChunk-100, gatewayChunk+99
		r := f.get(t, http.MethodGet, "/ipfs/"+f.file.String(), "Range", fmt.Sprintf("bytes=%d-%d", from, to))
		wantStatus(t, r, http.StatusPartialContent)
		wantHeader(t, r, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, to, len(f.data)))
		if !bytes.Equal(r.body, f.data[from:to+1]) {
			t.Fatalf("range body is %d bytes, not bytes %d-%d", len(r.body), from, to)
		}
	})
	t.Run("content type by name", func(t *testing.T) {
		r := f.get(t, http.MethodGet, "/ipfs/"+f.dir.String()+"/hello.txt")
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Type", "text/plain; charset=utf-8")
		if string(r.body) != helloText {
			t.Fatalf("body %q, want %q", r.body, helloText)
		}
	})
	t.Run("head", func(t *testing.T) {
		r := f.get(t, http.MethodHead, "/ipfs/"+f.file.String())
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Length", fmt.Sprint(len(f.data)))
		if len(r.body) != 0 {
			t.Fatalf("HEAD sent %d body bytes", len(r.body))
		}
	})
	t.Run("head raw", func(t *testing.T) {
		r := f.get(t, http.MethodHead, "/ipfs/"+f.hello.String(), "Accept", "application/vnd.ipld.raw")
		wantStatus(t, r, http.StatusOK)
		wantHeader(t, r, "Content-Type", "application/vnd.ipld.raw")
	})
}

func TestGatewayDirectoryListing(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	// Without the trailing slash the gateway redirects, and the client
	// follows, as a browser would.
	r := f.get(t, http.MethodGet, "/ipfs/"+f.dir.String())
	wantStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML listing", ct)
	}
	for _, name := range []string{"big.bin", "hello.txt"} {
		if !bytes.Contains(r.body, []byte(name)) {
			t.Fatalf("listing does not name %s", name)
		}
	}
}

func TestGatewayErrors(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, 200*time.Millisecond)
	missing, err := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum([]byte("nobody has this"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		status     int
	}{
		{"bad cid", "/ipfs/not-a-cid", http.StatusBadRequest},
		{"bad cid raw", "/ipfs/bafyNOPE?format=raw", http.StatusBadRequest},
		{"no such path", "/ipfs/" + f.dir.String() + "/nope.txt", http.StatusNotFound},
		// The exchange never finds it: the retrieval timeout answers.
		{"not retrievable", "/ipfs/" + missing.String(), http.StatusGatewayTimeout},
		{"not retrievable raw", "/ipfs/" + missing.String() + "?format=raw", http.StatusGatewayTimeout},
		{"not retrievable car", "/ipfs/" + missing.String() + "?format=car", http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, f.get(t, http.MethodGet, tt.path), tt.status)
		})
	}
	// only-if-cached answers from the store alone, at once.
	t.Run("only-if-cached missing", func(t *testing.T) {
		wantStatus(t, f.get(t, http.MethodHead, "/ipfs/"+missing.String(), "Cache-Control", "only-if-cached"), http.StatusPreconditionFailed)
	})
	t.Run("only-if-cached held", func(t *testing.T) {
		wantStatus(t, f.get(t, http.MethodHead, "/ipfs/"+f.hello.String(), "Cache-Control", "only-if-cached"), http.StatusOK)
	})
	t.Run("not retrievable head", func(t *testing.T) {
		wantStatus(t, f.get(t, http.MethodHead, "/ipfs/"+missing.String()), http.StatusGatewayTimeout)
	})
}

func TestGatewayIsReadOnlyAndOpenToOrigins(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	path := "/ipfs/" + f.hello.String()
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		r := f.get(t, m, path)
		wantStatus(t, r, http.StatusMethodNotAllowed)
		wantHeader(t, r, "Allow", "GET, HEAD, OPTIONS")
	}
	// Any page may load public, self-verifying data.
	r := f.get(t, http.MethodGet, path, "Origin", "https://elsewhere.example")
	wantStatus(t, r, http.StatusOK)
	wantHeader(t, r, "Access-Control-Allow-Origin", "*")
	// Nothing but /ipfs/ is there: no API beside it.
	wantStatus(t, f.get(t, http.MethodGet, "/api/v0/id"), http.StatusNotFound)
	wantStatus(t, f.get(t, http.MethodPost, "/api/v0/id"), http.StatusMethodNotAllowed)
}

func TestGatewayAccessToken(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{AccessToken: "s3cret"}, time.Second)
	path := "/ipfs/" + f.hello.String()
	// Refused before the redirect to the subdomain, and on it.
	wantStatus(t, f.get(t, http.MethodGet, path), http.StatusUnauthorized)
	wantStatus(t, f.getURL(t, http.MethodGet, f.subdomainURL(f.hello, "/")), http.StatusUnauthorized)
	// Clients drop the token on a redirect to another host, so one with
	// a token asks the subdomain itself.
	r := f.getURL(t, http.MethodGet, f.subdomainURL(f.hello, "/"), "Authorization", "Bearer s3cret")
	wantStatus(t, r, http.StatusOK)
	if string(r.body) != helloText {
		t.Fatalf("body %q, want %q", r.body, helloText)
	}
	raw := f.get(t, http.MethodGet, path+"?format=raw", "Authorization", "Bearer s3cret")
	wantStatus(t, raw, http.StatusOK)
	// A CORS preflight carries no credentials and reveals nothing.
	pre := f.get(t, http.MethodOptions, path, "Origin", "https://elsewhere.example", "Access-Control-Request-Method", "GET")
	if pre.status >= 300 {
		t.Fatalf("preflight status %d", pre.status)
	}
	wantHeader(t, pre, "Access-Control-Allow-Origin", "*")
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
