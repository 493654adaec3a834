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
