package client_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// connect serves a shell over b and returns a client of it.
func connect(t *testing.T, cfg shell.Config, b *shelltest.Backend, opts ...client.Option) *client.Client {
	t.Helper()
	h, err := shell.New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAddNamesOneFile checks that a single file, sent as its bytes alone,
// keeps its name through the Content-Disposition header, whatever the
// characters, and that an unnamed one is named by its CID as in Kubo.
func TestAddNamesOneFile(t *testing.T) {
	c := connect(t, shell.Config{}, shelltest.New())
	data := []byte("named")
	for _, name := range []string{"plain.txt", "café ü \"quoted\".txt", ""} {
		res, err := c.Add(context.Background(), bytes.NewReader(data), name, client.AddOptions{})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		want := name
		if name == "" {
			want = res.Cid.String()
		}
		if res.Name != want || res.Cid != shelltest.RawCid(data) {
			t.Fatalf("Add(%q) = %+v, want name %q and CID %s", name, res, want, shelltest.RawCid(data))
		}
	}
}

func TestAddCatGet(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()
	data := bytes.Repeat([]byte("cairn "), 100_000)

	res, err := c.Add(ctx, bytes.NewReader(data), "big.txt", client.AddOptions{CIDVersion: new(1), Chunker: "size-65536"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "big.txt" || res.Cid != shelltest.RawCid(data) || res.Size != uint64(len(data)) {
		t.Fatalf("Add = %+v", res)
	}
	if got := b.LastAdd(); got.CIDVersion != 1 || got.ChunkSize != 65536 || !got.Pin {
		t.Fatalf("backend got options %+v", got)
	}

	rc, err := c.Cat(ctx, res.Cid)
	if got := readAll(t, rc, err); !bytes.Equal(got, data) {
		t.Fatalf("Cat returned %d bytes, want %d", len(got), len(data))
	}
	rc, err = c.CatRange(ctx, res.Cid, 6, 5)
	if got := readAll(t, rc, err); string(got) != "cairn" {
		t.Fatalf("CatRange = %q", got)
	}
	rc, err = c.Get(ctx, res.Cid)
	tr := tar.NewReader(bytes.NewReader(readAll(t, rc, err)))
	if h, err := tr.Next(); err != nil || h.Name != res.Cid.String() {
		t.Fatalf("tar entry %v, %v; want one named %s", h, err, res.Cid)
	}
}

func readAll(t *testing.T, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBlocks(t *testing.T) {
	c := connect(t, shell.Config{}, shelltest.New())
	ctx := context.Background()

	put, err := c.BlockPut(ctx, []byte("blk"), client.BlockPutOptions{Codec: "dag-cbor"})
	if err != nil || put.Size != 3 || put.Cid.Prefix().Codec != cid.DagCBOR {
		t.Fatalf("BlockPut = %+v, %v", put, err)
	}
	if data, err := c.BlockGet(ctx, put.Cid); err != nil || string(data) != "blk" {
		t.Fatalf("BlockGet = %q, %v", data, err)
	}
	if st, err := c.BlockStat(ctx, put.Cid); err != nil || st != put {
		t.Fatalf("BlockStat = %+v, %v; want %+v", st, err, put)
	}
}

func TestNodeInfo(t *testing.T) {
	b := shelltest.New()
	b.PeerList = []shell.PeerInfo{{ID: shelltest.PeerID(1), Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: "inbound", Latency: time.Millisecond}}
	c := connect(t, shell.Config{Version: "1.2.3"}, b)
	ctx := context.Background()

	id, err := c.ID(ctx)
	if err != nil || id.ID != b.Self.ID || len(id.Addresses) != 2 || id.AgentVersion != "cairn/test" {
		t.Fatalf("ID = %+v, %v", id, err)
	}
	if v, err := c.Version(ctx); err != nil || v.Version != "1.2.3" {
		t.Fatalf("Version = %+v, %v", v, err)
	}
	peers, err := c.Peers(ctx)
	if err != nil || len(peers) != 1 || peers[0].ID != shelltest.PeerID(1) || peers[0].Direction != "inbound" || peers[0].Latency != time.Millisecond {
		t.Fatalf("Peers = %+v, %v", peers, err)
	}
}

func TestConnectAndFindProvs(t *testing.T) {
	b := shelltest.New()
	target := b.AddFile([]byte("x"))
	b.Providers[target] = []peer.AddrInfo{{ID: shelltest.PeerID(1)}, {ID: shelltest.PeerID(2)}}
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()

	addr := ma.StringCast("/ip4/10.0.0.1/tcp/4001/p2p/" + shelltest.PeerID(1).String())
	lines, err := c.Connect(ctx, addr)
	if err != nil || len(lines) != 1 || lines[0] != "connect "+shelltest.PeerID(1).String()+" success" {
		t.Fatalf("Connect = %q, %v", lines, err)
	}

	var found []peer.ID
	err = c.FindProvs(ctx, target, 2, func(p peer.AddrInfo) error {
		found = append(found, p.ID)
		return nil
	})
	if err != nil || len(found) != 2 || found[0] != shelltest.PeerID(1) {
		t.Fatalf("FindProvs found %v, %v", found, err)
	}
}

func TestShellErrorsKeepTheirMessage(t *testing.T) {
	b := shelltest.New()
	absent := shelltest.RawCid([]byte("absent"))
	c := connect(t, shell.Config{}, b, client.WithTimeout(50*time.Millisecond))

	_, err := c.Cat(context.Background(), absent)

	var shellErr *client.Error
	if !errors.As(err, &shellErr) || shellErr.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("err = %#v, want a 504 *client.Error", err)
	}
	if want := "content " + absent.String() + " not found within 50ms"; err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestMidStreamErrorEndsTheRead(t *testing.T) {
	b := shelltest.New()
	broken := b.AddBrokenFile([]byte("half"), errors.New("peer went away"))
	c := connect(t, shell.Config{}, b)

	rc, err := c.Cat(context.Background(), broken)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)

	if string(data) != "half" || err == nil || !strings.Contains(err.Error(), "peer went away") {
		t.Fatalf("read %q, err %v; want the partial bytes, then the trailer's error", data, err)
	}
}

func TestAccessTokenAndBodyLimit(t *testing.T) {
	b := shelltest.New()
	cfg := shell.Config{AccessToken: "tok", MaxBodyBytes: 1 << 10}
	ctx := context.Background()

	_, err := connect(t, cfg, b).Version(ctx)
	var shellErr *client.Error
	if !errors.As(err, &shellErr) || shellErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without token: %v", err)
	}
	c := connect(t, cfg, b, client.WithToken("tok"))
	if _, err := c.Version(ctx); err != nil {
		t.Fatalf("with token: %v", err)
	}
	_, err = c.Add(ctx, bytes.NewReader(make([]byte, 1<<20)), "big", client.AddOptions{})
	if !errors.As(err, &shellErr) || shellErr.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized add: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "/ip4/127.0.0.1/tcp/" + strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")
	l.Close() // nothing listens there any more

	c, err := client.New(addr)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Version(context.Background())
	var unreachable *client.UnreachableError
	if !errors.As(err, &unreachable) || unreachable.Addr != addr {
		t.Fatalf("err = %v, want an UnreachableError for %s", err, addr)
	}
}

func TestPlainTextErrorsFromKubo(t *testing.T) {
	// Kubo itself answers some refusals in plain text.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "403 - Forbidden", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	c, _ := client.New(srv.URL)

	_, err := c.Version(context.Background())

	if err == nil || err.Error() != "403 - Forbidden" {
		t.Fatalf("err = %v", err)
	}
}

// TestManyUploadsOnOneConnection guards against golang/go#68560: a
// full-duplex handler that leaves a chunked body's end unread makes Go's
// server panic when the connection's next request arrives. The panic is
// caught and logged by the server, so the test reads the server's log.
func TestManyUploadsOnOneConnection(t *testing.T) {
	h, err := shell.New(shell.Config{}, shelltest.New())
	if err != nil {
		t.Fatal(err)
	}
	var serverLog syncbuf.Buffer
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	c, _ := client.New(srv.URL)
	ctx := context.Background()

	for i := range 20 {
		if _, err := c.Add(ctx, strings.NewReader("x"), "n", client.AddOptions{}); err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
		if _, err := c.BlockPut(ctx, []byte{byte(i)}, client.BlockPutOptions{}); err != nil {
			t.Fatalf("block put %d: %v", i, err)
		}
	}
	if got := serverLog.String(); got != "" {
		t.Fatalf("the server logged:\n%s", got)
	}
}

// countingConn counts the writes made to a connection.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestAddWritesUploadInLargePieces checks that an upload goes to the
// connection in large writes: through net/http's 32 KiB copy buffer, each
// 32 KiB took three write calls.
func TestAddWritesUploadInLargePieces(t *testing.T) {
	var writes atomic.Int64
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: conn, writes: &writes}, nil
		},
	}}
	c := connect(t, shell.Config{}, shelltest.New(), client.WithHTTPClient(hc))
	const size = 8 << 20
	data := bytes.Repeat([]byte{7}, size)
	res, err := c.Add(context.Background(), bytes.NewReader(data), "big", client.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != size {
		t.Fatalf("Size = %d, want %d", res.Size, size)
	}
	// 32 KiB chunks would take 768 writes.
	if got, limit := writes.Load(), int64(3*size/(256<<10)); got > limit {
		t.Fatalf("upload took %d writes, want at most %d", got, limit)
	}
}
