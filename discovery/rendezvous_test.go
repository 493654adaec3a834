package discovery

import (
	"testing"
	"time"

	"github.com/cairnnet/cairn/dht"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/host"
)

// Peers that know nobody find one another under the namespace alone.
func TestRendezvousConnectsPeersOfTheNamespace(t *testing.T) {
	var rv fakeRendezvous
	hosts := make([]host.Host, 3)
	for i := range hosts {
		hosts[i] = newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	}
	for _, h := range hosts {
		startDiscovery(t, h, rv.routingFor(h), nil, testConfig(), 32)
	}
	waitFor(t, "every peer connected to both others", 10*time.Second, func() bool {
		for _, h := range hosts {
			if len(h.Network().Peers()) < 2 {
				return false
			}
		}
		return true
	})
}

// A peer under another namespace is not dialled.
func TestRendezvousKeepsNamespacesApart(t *testing.T) {
	var rv fakeRendezvous
	a := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	b := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	other := testConfig()
	other.Namespace = "elsewhere"
	startDiscovery(t, b, rv.routingFor(b), nil, other, 32)
	d := startDiscovery(t, a, rv.routingFor(a), nil, testConfig(), 32)
	// Once a has advertised and looked up its own namespace, the only
	// record under it is its own.
	waitFor(t, "a's own record", 5*time.Second, func() bool {
		return len(d.findRendezvous(t.Context())) == 1
	})
	if n := len(a.Network().ConnsToPeer(b.ID())); n != 0 {
		t.Fatalf("a dialled a peer of another namespace (%d connections)", n)
	}
}

// Ten peers each given only the first one's address end up connected to
// every other, and every one's rendezvous record is in the real (LAN) DHT
// for the others to find. In a network this small the DHT's own lookups
// also end up touching every peer, so the records check is what shows
// rendezvous at work here; TestRendezvousConnectsPeersOfTheNamespace shows
// it connecting peers on its own.
func TestTenPeersFromOneBootstrapConnectThroughRendezvous(t *testing.T) {
	const n = 10
	hosts := make([]host.Host, n)
	discs := make([]*Discovery, n)
	for i := range hosts {
		hosts[i] = newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	}
	for i, h := range hosts {
		var boot []host.Host
		if i > 0 {
			boot = []host.Host{hosts[0]}
		}
		cfg := testConfig(boot...)
		r := startDHT(t, h, cfg)
		discs[i] = startDiscovery(t, h, r, nil, cfg, 32)
	}
	waitFor(t, "every peer connected to every other", 45*time.Second, func() bool {
		for _, h := range hosts {
			if len(h.Network().Peers()) < n-1 {
				return false
			}
		}
		return true
	})
	waitFor(t, "all ten records under the namespace", 20*time.Second, func() bool {
		return len(discs[n-1].findRendezvous(t.Context())) == n
	})
}

func startDHT(t *testing.T, h host.Host, cfg Config) *dht.DHT {
	t.Helper()
	boot, err := ParseBootstrap(cfg.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	dcfg := dht.DefaultConfig()
	r, err := dht.New(h, dssync.MutexWrap(datastore.NewMapDatastore()), dcfg, boot)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
