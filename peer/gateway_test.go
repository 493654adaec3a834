package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	car "github.com/ipld/go-car/v2"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	manet "github.com/multiformats/go-multiaddr/net"
)

// shellURL is the http:// base of n's shell.
func shellURL(t *testing.T, n *Node) string {
	t.Helper()
	addr, err := manet.ToNetAddr(n.ShellAddr())
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr.String()
}

func httpDo(t *testing.T, ctx context.Context, method, url string) (*http.Response, []byte) {
	t.Helper()
	return clientDo(t, ctx, http.DefaultClient, method, url)
}

// gatewayClient reaches n's gateway whatever the URL's host, as a browser
// reaches {cid}.ipfs.localhost on the loopback address without asking DNS,
// so that it follows the gateway's redirects to a root's own origin.
func gatewayClient(n *Node) *http.Client {
	addr := n.GatewayURL()[len("http://"):]
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func clientDo(t *testing.T, ctx context.Context, c *http.Client, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return resp, body
}

// B's gateway serves, as a verifiable CAR and then as bytes, a file that
// only A holds: the gateway reads through the node's Bitswap.
func TestGatewayFetchesFromPeers(t *testing.T) {
	a := newTestNode(t, testConfig())
	b := newTestNode(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.Host().Connect(ctx, libp2ppeer.AddrInfo{ID: a.Host().ID(), Addrs: a.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20+777) // five leaves of 256 KiB
	rand.Read(data)
	res, err := a.Content().Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}

	gw := gatewayClient(b)
	resp, body := clientDo(t, ctx, gw, http.MethodGet, b.GatewayURL()+"/ipfs/"+res.Cid.String()+"?format=car")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CAR: status %d: %s", resp.StatusCode, body)
	}
	br, err := car.NewBlockReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("CAR does not parse: %v", err)
	}
	n := 0
	for {
		blk, err := br.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if want, err := blk.Cid().Prefix().Sum(blk.RawData()); err != nil || !want.Equals(blk.Cid()) {
			t.Fatalf("block %s does not hash to its CID", blk.Cid())
		}
		n++
	}
	if n != 6 {
		t.Fatalf("CAR holds %d blocks, want the root and 5 leaves", n)
	}

	// The file's bytes, on its own origin after the redirect.
	resp, body = clientDo(t, ctx, gw, http.MethodGet, b.GatewayURL()+"/ipfs/"+res.Cid.String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("file: status %d, %d bytes, want 200 and the %d bytes added on A", resp.StatusCode, len(body), len(data))
	}
	if host := resp.Request.URL.Host; !strings.HasSuffix(host, ".ipfs.localhost"+b.GatewayURL()[strings.LastIndex(b.GatewayURL(), ":"):]) {
		t.Fatalf("file served from %s, want its subdomain of localhost", host)
	}

	// A Range of another file: only the leaves under it are fetched.
	data2 := make([]byte, 4<<20)
	rand.Read(data2)
	res2, err := a.Content().Import(ctx, bytes.NewReader(data2), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	before := b.Content().FastPathStats()
	rresp, body := clientDo(t, ctx, gw, http.MethodGet, b.GatewayURL()+"/ipfs/"+res2.Cid.String(), "Range", "bytes=1000000-1300000")
	if rresp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data2[1000000:1300001]) {
		t.Fatalf("range: status %d, %d bytes, want 206 and bytes 1000000-1300000", rresp.StatusCode, len(body))
	}
	after := b.Content().FastPathStats()
	if got := after.BytesReceived - before.BytesReceived; got == 0 || got > 3*256<<10+64<<10 {
		t.Fatalf("%d bytes fetched over the fast path for a 300 kB range: want the 2-3 leaves under it", got)
	}

	// All of it came over the fast path, none through Bitswap.
	if st, err := b.Content().BitswapStats(); err != nil || st.BlocksReceived != 0 {
		t.Fatalf("%d blocks came through Bitswap (%v), want all over the fast path", st.BlocksReceived, err)
	}
}

// The gateway listens apart from the shell, its URL is in the repo while
// the node runs (written once it listens, gone after Close), and the
// shell's port serves no content, only a pointer to the gateway.
func TestGatewayHasItsOwnListener(t *testing.T) {
	dir := t.TempDir()
	if _, err := InitRepo(dir, []byte("")); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.RepoDir = dir
	n, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.GatewayURL() == shellURL(t, n) || !strings.HasPrefix(n.GatewayURL(), "http://127.0.0.1:") {
		t.Fatalf("gateway at %s, shell at %s", n.GatewayURL(), shellURL(t, n))
	}
	published, err := os.ReadFile(filepath.Join(dir, GatewayFile))
	if err != nil || string(published) != n.GatewayURL()+"\n" {
		t.Fatalf("gateway file holds %q (%v), want %s", published, err, n.GatewayURL())
	}
	ctx := t.Context()
	res, err := n.Content().Import(ctx, strings.NewReader("<p>a page</p>"), content.ImportOptions{CIDVersion: -1})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := httpDo(t, ctx, http.MethodGet, n.GatewayURL()+"/ipfs/"+res.Cid.String()+"?format=raw")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "a page") {
		t.Fatalf("gateway: status %d: %q", resp.StatusCode, body)
	}
	resp, body = httpDo(t, ctx, http.MethodGet, shellURL(t, n)+"/ipfs/"+res.Cid.String())
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), n.GatewayURL()) {
		t.Fatalf("shell: status %d: %q, want 404 naming the gateway", resp.StatusCode, body)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if fileExists(dir, GatewayFile) {
		t.Fatal("gateway file left behind after close")
	}
}

// A real node reports its reprovider through the shell.
func TestShellStatsProvide(t *testing.T) {
	a := newTestNode(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, body := httpDo(t, ctx, http.MethodPost, shellURL(t, a)+"/api/v0/stats/provide")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var st struct {
		TotalProvides     uint64
		ReprovideInterval time.Duration
		LastRun           *time.Time
		Strategy          string
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	cfg := testConfig().Content
	if st.ReprovideInterval != cfg.ReprovideInterval || st.Strategy != cfg.ProvideStrategy || st.LastRun != nil {
		t.Fatalf("stats %+v, want interval %s, strategy %s, no run yet", st, cfg.ReprovideInterval, cfg.ProvideStrategy)
	}
}
