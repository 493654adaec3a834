package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// testConfig is an in-memory node on loopback with ephemeral ports and no
// multicast, bootstrapping from the given peers.
func testConfig(bootstrap ...*Node) Config {
	cfg := DefaultConfig()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	cfg.Shell.Address = "127.0.0.1:0"
	cfg.Gateway.Address = "127.0.0.1:0"
	cfg.Discovery.MDNS = false
	cfg.Reachability.PortMapping = false // no UPnP/NAT-PMP multicast from tests
	cfg.Discovery.Interval = 200 * time.Millisecond
	cfg.Discovery.MaxBackoff = time.Second
	cfg.Datastore.Type = "memory"
	cfg.Content.ChunkSize = 256 << 10
	for _, b := range bootstrap {
		h := b.Host()
		for _, a := range h.Addrs() {
			cfg.Discovery.Bootstrap = append(cfg.Discovery.Bootstrap, a.String()+"/p2p/"+h.ID().String())
		}
	}
	return cfg
}

func newTestNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n
}

// waitFor polls cond until it holds or the deadline passes; routing tables
// fill asynchronously with no event to wait on.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Three peers in a chain — C knows only B, B only A — and C fetches a
// multi-block file added on A, found through DHT provider records.
func TestChainOfThreeFetchesThroughTheDHT(t *testing.T) {
	a := newTestNode(t, testConfig())
	b := newTestNode(t, testConfig(a))
	c := newTestNode(t, testConfig(b))
	waitFor(t, "LAN routing tables", 20*time.Second, func() bool {
		la, _ := a.Routing().Peers()
		lc, _ := c.Routing().Peers()
		return la >= 1 && lc >= 1
	})

	data := make([]byte, 3<<20+12345) // 13 leaves of 256 KiB and a short one
	rand.Read(data)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := a.Content().Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "C to find A's provider record", 20*time.Second, func() bool {
		return findsProvider(ctx, c, res.Cid, a)
	})
	got := readAll(t, ctx, c, res.Cid)
	if !bytes.Equal(got, data) {
		t.Fatalf("C read %d bytes that differ from the %d added on A", len(got), len(data))
	}
}

func findsProvider(ctx context.Context, n *Node, c cid.Cid, want *Node) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for pi := range n.Routing().FindProvidersAsync(ctx, c, 0) {
		if pi.ID == want.Host().ID() {
			return true
		}
	}
	return false
}

func readAll(t *testing.T, ctx context.Context, n *Node, c cid.Cid) []byte {
	t.Helper()
	nd, err := n.Content().Node(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := nd.(files.File)
	if !ok {
		t.Fatalf("%s is not a file", c)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCloseIsIdempotentAndRemovesTheAPIFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := InitRepo(dir, []byte("")); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.RepoDir = dir
	cfg.Datastore.Type = "disk"
	n, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !fileExists(dir, APIFile) {
		t.Fatal("no api file while running")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if fileExists(dir, APIFile) {
		t.Fatal("api file left behind after close")
	}
}

// Content added while a node has no DHT peers is announced again as soon
// as the DHT has some, not at the next reprovide 22 h later.
func TestReannounceWhenTheDHTGainsPeers(t *testing.T) {
	a := newTestNode(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := a.Content().Import(ctx, bytes.NewReader([]byte("added while alone")), content.ImportOptions{CIDVersion: -1, Pin: true}); err != nil {
		t.Fatal(err)
	}
	if st, err := a.Content().ProvideStats(); err != nil || st.TotalReprovides != 0 {
		t.Fatalf("reprovided before any peer: %+v, %v", st, err)
	}
	newTestNode(t, testConfig(a))
	waitFor(t, "A to re-announce once B joined its DHT", 30*time.Second, func() bool {
		st, err := a.Content().ProvideStats()
		return err == nil && st.TotalReprovides >= 1
	})
}
