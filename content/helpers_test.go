package content

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testTimeout bounds every wait on an event in these tests.
const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTestContent builds a Content and closes it when the test ends.
func newTestContent(t *testing.T, h host.Host, r Router, ds datastore.Batching, cfg Config) *Content {
	t.Helper()
	c, err := New(t.Context(), h, r, ds, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

// newOffline is a Content with no host and no router over a fresh memory
// datastore.
func newOffline(t *testing.T, cfg Config) *Content {
	t.Helper()
	return newTestContent(t, nil, nil, NewMemoryDatastore(), cfg)
}

// newHost starts a libp2p host listening on loopback TCP only.
func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatalf("libp2p.New: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	rand.NewChaCha8(key).Read(b)
	return b
}

// readNode reads a files.File to its end.
func readNode(t *testing.T, nd files.Node) []byte {
	t.Helper()
	f, ok := nd.(files.File)
	if !ok {
		t.Fatalf("node is %T, not a file", nd)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return got
}

func importBytes(t *testing.T, c *Content, data []byte, opts ImportOptions) ImportResult {
	t.Helper()
	res, err := c.Import(testContext(t), bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return res
}

// fakeRouting is the in-test content routing shared by a test's peers: a
// map from multihash to the peers that announced it, and a feed of every
// announcement so tests can wait for one.
type fakeRouting struct {
	mu        sync.Mutex
	providers map[string][]peer.AddrInfo
	announced chan cid.Cid
}

func newFakeRouting() *fakeRouting {
	return &fakeRouting{providers: map[string][]peer.AddrInfo{}, announced: make(chan cid.Cid, 1024)}
}

// routerFor returns the Router of one peer, h.
func (f *fakeRouting) routerFor(h host.Host) Router { return &fakeRouter{f, h} }

// waitAnnounced waits until k has been announced.
func (f *fakeRouting) waitAnnounced(t testing.TB, k cid.Cid) {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case got := <-f.announced:
			if got.Hash().HexString() == k.Hash().HexString() {
				return
			}
		case <-deadline:
			t.Fatalf("%s never announced", k)
		}
	}
}

type fakeRouter struct {
	f *fakeRouting
	h host.Host
}

func (r *fakeRouter) Provide(_ context.Context, k cid.Cid, _ bool) error {
	r.f.mu.Lock()
	key := string(k.Hash())
	r.f.providers[key] = append(r.f.providers[key], peer.AddrInfo{ID: r.h.ID(), Addrs: r.h.Addrs()})
	r.f.mu.Unlock()
	select {
	case r.f.announced <- k:
	default: // nobody is waiting for that many
	}
	return nil
}

func (r *fakeRouter) FindProvidersAsync(_ context.Context, k cid.Cid, _ int) <-chan peer.AddrInfo {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	infos := r.f.providers[string(k.Hash())]
	ch := make(chan peer.AddrInfo, len(infos))
	for _, ai := range infos {
		ch <- ai
	}
	close(ch)
	return ch
}

// queryKeys lists the datastore keys under prefix.
func queryKeys(t *testing.T, ds datastore.Datastore, prefix string) []string {
	t.Helper()
	res, err := ds.Query(t.Context(), query.Query{Prefix: prefix, KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := res.Rest()
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(entries))
	for i, e := range entries {
		keys[i] = e.Key
	}
	return keys
}
