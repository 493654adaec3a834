package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
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
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
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

	resp, body := httpDo(t, ctx, http.MethodGet, shellURL(t, b)+"/ipfs/"+res.Cid.String()+"?format=car")
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

	resp, body = httpDo(t, ctx, http.MethodGet, shellURL(t, b)+"/ipfs/"+res.Cid.String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("file: status %d, %d bytes, want 200 and the %d bytes added on A", resp.StatusCode, len(body), len(data))
	}

	// A Range of another file: only the leaves under it are fetched.
	data2 := make([]byte, 4<<20)
	rand.Read(data2)
	res2, err := a.Content().Import(ctx, bytes.NewReader(data2), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	before := b.Content().FastPathStats()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, shellURL(t, b)+"/ipfs/"+res2.Cid.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=1000000-1300000")
	rresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(rresp.Body)
	rresp.Body.Close()
	if err != nil || rresp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data2[1000000:1300001]) {
		t.Fatalf("range: status %d, %d bytes (%v), want 206 and bytes 1000000-1300000", rresp.StatusCode, len(body), err)
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
