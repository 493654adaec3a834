package discovery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// testConfig is discovery with small intervals and no multicast.
func testConfig(bootstrap ...host.Host) Config {
	cfg := DefaultConfig()
	cfg.MDNS = false
	cfg.Interval = 100 * time.Millisecond
	cfg.MaxBackoff = 500 * time.Millisecond
	for _, b := range bootstrap {
		cfg.Bootstrap = append(cfg.Bootstrap, p2pAddr(b))
	}
	return cfg
}

func p2pAddr(h host.Host) string { return h.Addrs()[0].String() + "/p2p/" + h.ID().String() }

// startDiscovery runs discovery on h until the test ends.
func startDiscovery(t *testing.T, h host.Host, r Routing, ds datastore.Datastore, cfg Config, minPeers int) *Discovery {
	t.Helper()
	d, err := New(h, r, ds, cfg, minPeers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("close discovery: %v", err)
		}
	})
	return d
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling, not synchronisation
	}
}

// fakeRendezvous is an in-memory ContentRouting shared by the peers of a
// test: what one provides, the others find. It lets a test show that
// rendezvous alone connects peers, with no DHT walking on the side.
type fakeRendezvous struct {
	mu        sync.Mutex
	providers map[cid.Cid][]peer.AddrInfo
}

// routingFor is the fake as seen by h.
func (f *fakeRendezvous) routingFor(h host.Host) Routing { return &fakeRouting{f: f, h: h} }

type fakeRouting struct {
	f *fakeRendezvous
	h host.Host
}

func (r *fakeRouting) Provide(_ context.Context, c cid.Cid, _ bool) error {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if r.f.providers == nil {
		r.f.providers = map[cid.Cid][]peer.AddrInfo{}
	}
	r.f.providers[c] = append(r.f.providers[c], peer.AddrInfo{ID: r.h.ID(), Addrs: r.h.Addrs()})
	return nil
}

func (r *fakeRouting) FindProvidersAsync(_ context.Context, c cid.Cid, limit int) <-chan peer.AddrInfo {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	provs := r.f.providers[c]
	out := make(chan peer.AddrInfo, len(provs))
	for i, p := range provs {
		if limit > 0 && i == limit {
			break
		}
		out <- p
	}
	close(out)
	return out
}

func (r *fakeRouting) Bootstrap(context.Context) error { return nil }
