package discovery

import (
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func newDatastore() datastore.Batching { return dssync.MutexWrap(datastore.NewMapDatastore()) }

// The store keeps the newest entries up to its limit, across a reload.
func TestRememberedDropsTheOldestBeyondTheLimit(t *testing.T) {
	ctx := t.Context()
	ds := newDatastore()
	r, err := loadRemembered(ctx, ds, 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []peer.ID
	start := time.Unix(1_700_000_000, 0)
	for i := range 5 {
		id, err := peer.IDFromPrivateKey(newKey(t))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		addr := ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 4000+i))
		if err := r.remember(ctx, id, []ma.Multiaddr{addr}, start.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	reloaded, err := loadRemembered(ctx, ds, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := reloaded.list()
	want := []peer.ID{ids[4], ids[3], ids[2]}
	if len(got) != len(want) {
		t.Fatalf("remembered %d peers after reload, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i] {
			t.Fatalf("entry %d is %s, want %s (newest first)", i, got[i].ID, want[i])
		}
		if len(got[i].Addrs) != 1 {
			t.Fatalf("entry %d has addresses %v", i, got[i].Addrs)
		}
	}
	// A smaller limit on the next start trims the store too.
	smaller, err := loadRemembered(ctx, ds, 1)
	if err != nil {
		t.Fatal(err)
	}
	if l := smaller.list(); len(l) != 1 || l[0].ID != ids[4] {
		t.Fatalf("after trimming to 1: %v", l)
	}
}

// A peer restarted after its bootstrap peer is gone rejoins the network
// through a peer it remembered from its last run.
func TestRestartedPeerRejoinsThroughRememberedPeers(t *testing.T) {
	boot := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	other := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	ds := newDatastore()
	keyB := newKey(t)

	// First run: B knows only the bootstrap peer, and meets the other
	// peer (here by a dial; in a network, through rendezvous).
	b := newHost(t, keyB, "/ip4/127.0.0.1/tcp/0")
	d := startDiscovery(t, b, nil, ds, testConfig(boot), 32)
	waitFor(t, "B connected to its bootstrap", 10*time.Second, func() bool {
		return b.Network().Connectedness(boot.ID()) == network.Connected
	})
	if err := b.Connect(t.Context(), peer.AddrInfo{ID: other.ID(), Addrs: other.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "B to remember the other peer", 10*time.Second, func() bool {
		for _, pi := range d.Remembered() {
			if pi.ID == other.ID() {
				return true
			}
		}
		return false
	})
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	firstRun := testConfig(boot) // the bootstrap address, kept for the second run
	if err := boot.Close(); err != nil {
		t.Fatal(err)
	}

	// Second run: the bootstrap peer is gone; the datastore is all B has.
	b2 := newHost(t, keyB, "/ip4/127.0.0.1/tcp/0")
	startDiscovery(t, b2, nil, ds, firstRun, 32)
	waitFor(t, "restarted B connected to the remembered peer", 10*time.Second, func() bool {
		return b2.Network().Connectedness(other.ID()) == network.Connected
	})
}
