package dht

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mh "github.com/multiformats/go-multihash"
)

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func newDHT(t *testing.T, h host.Host, cfg Config, bootstrap ...peer.AddrInfo) *DHT {
	t.Helper()
	d, err := New(h, dssync.MutexWrap(datastore.NewMapDatastore()), cfg, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// waitFor polls cond until it holds or the deadline passes: the DHT fills
// its tables asynchronously after identify, with no event to wait on.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Peers with only loopback addresses must form a DHT (the LAN one) and
// find each other's provider records through an intermediate peer,
// which plain auto mode does not do (go-libp2p-kad-dht#564).
func TestLoopbackPeersRouteThroughAChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := DefaultConfig()
	ha, hb, hc := newHost(t), newHost(t), newHost(t)
	a := newDHT(t, ha, cfg)
	b := newDHT(t, hb, cfg, peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()})
	c := newDHT(t, hc, cfg, peer.AddrInfo{ID: hb.ID(), Addrs: hb.Addrs()})
	for _, x := range []struct {
		h    host.Host
		peer host.Host
	}{{hb, ha}, {hc, hb}} {
		if err := x.h.Connect(ctx, peer.AddrInfo{ID: x.peer.ID(), Addrs: x.peer.Addrs()}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "routing tables to fill", 10*time.Second, func() bool {
		la, _ := a.Peers()
		lc, _ := c.Peers()
		lb, _ := b.Peers()
		return la >= 1 && lb >= 2 && lc >= 1
	})
	key := cid.NewCidV1(cid.Raw, mustHash(t, "hello"))
	if err := a.Provide(ctx, key, true); err != nil {
		t.Fatalf("provide: %v", err)
	}
	// ADD_PROVIDER has no reply: Provide returns once the record is sent,
	// and B may store it a moment later, so C looks until it is there.
	var rec *peer.AddrInfo
	waitFor(t, "C to find A's provider record", 10*time.Second, func() bool {
		for pi := range c.FindProvidersAsync(ctx, key, 1) {
			if pi.ID == ha.ID() {
				rec = &pi
			}
		}
		return rec != nil
	})
	// A peer that has never met A reaches it with the record's addresses
	// alone: the LAN DHT kept the loopback address.
	hd := newHost(t)
	if err := hd.Connect(ctx, *rec); err != nil {
		t.Fatalf("connect to provider through its record %v: %v", rec.Addrs, err)
	}
}

func mustHash(t *testing.T, s string) mh.Multihash {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ProvideMany announces every key, so a reprovide of many roots is not one
// lookup at a time.
func TestProvideManyAnnouncesEveryKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := DefaultConfig()
	ha, hb := newHost(t), newHost(t)
	a := newDHT(t, ha, cfg)
	b := newDHT(t, hb, cfg, peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()})
	if a.Ready() {
		t.Fatal("Ready with empty routing tables")
	}
	if err := hb.Connect(ctx, peer.AddrInfo{ID: ha.ID(), Addrs: ha.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "routing tables to fill", 10*time.Second, func() bool { return a.Ready() && b.Ready() })
	var keys []mh.Multihash
	for i := range 50 {
		keys = append(keys, mustHash(t, fmt.Sprint("key ", i)))
	}
	if err := a.ProvideMany(ctx, keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		found := false
		for pi := range b.FindProvidersAsync(ctx, cid.NewCidV1(cid.Raw, k), 1) {
			found = found || pi.ID == ha.ID()
		}
		if !found {
			t.Fatalf("B found no provider record for %s", k.B58String())
		}
	}
}

// The LAN DHT speaks <prefix>/lan/kad/1.0.0, as Kubo's LAN DHT does; with
// the /ipfs prefix Cairn and Kubo then meet on loopback and private
// networks. (ProtocolPrefix once overwrote dual's "/lan" extension, so the
// LAN DHT spoke the WAN protocol and never met Kubo's.)
func TestLANDHTSpeaksKubosLANProtocol(t *testing.T) {
	for _, prefix := range []string{"/ipfs", DefaultProtocolPrefix} {
		cfg := DefaultConfig()
		cfg.ProtocolPrefix = prefix
		h := newHost(t)
		newDHT(t, h, cfg)
		want := protocol.ID(prefix + "/lan/kad/1.0.0")
		if !slices.Contains(h.Mux().Protocols(), want) {
			t.Errorf("prefix %s: host serves %v, want %s", prefix, h.Mux().Protocols(), want)
		}
	}
}
