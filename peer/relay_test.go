package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// behindRelay is a node with no listen address of its own, reachable only
// through relay: what a peer behind a NAT without port mapping looks like
// to the rest of the network.
func behindRelay(relay *Node) Config {
	cfg := testConfig(relay)
	cfg.Swarm.Listen = nil
	cfg.Reachability.Force = ForcePrivate
	cfg.Reachability.StaticRelays = cfg.Discovery.Bootstrap
	cfg.Reachability.RelayService = false
	return cfg
}

// circuitAddr is n's address through relay: the relay's own loopback
// address, then /p2p-circuit. go-libp2p's AutoRelay advertises such
// addresses only for relays with public IPs, so on loopback the test
// builds the address itself.
func circuitAddr(relay, n *Node) ma.Multiaddr {
	return ma.StringCast(relay.Host().Addrs()[0].String() + "/p2p/" + relay.Host().ID().String() + "/p2p-circuit")
}

// A and C are both behind "NAT" (no listen address: neither can dial the
// other) and reserve slots on the public relay B. A dials C at its relay
// address and fetches content C added, all through B. B relays without
// limits, so the relayed connection is a full one that Bitswap may use.
func TestFetchThroughRelay(t *testing.T) {
	bcfg := testConfig()
	bcfg.Reachability.Force = ForcePublic
	bcfg.Reachability.RelayDurationLimit, bcfg.Reachability.RelayDataLimit = 0, 0
	b := newTestNode(t, bcfg)
	a := newTestNode(t, behindRelay(b))
	c := newTestNode(t, behindRelay(b))

	for _, n := range []*Node{a, c} {
		for _, addr := range n.Host().Network().ListenAddresses() {
			if _, err := addr.ValueForProtocol(ma.P_CIRCUIT); err != nil {
				t.Fatalf("%s listens on %s; the test needs it reachable only through the relay", n.Host().ID(), addr)
			}
		}
	}
	if got := Reachability(c.Host()); got != "private" {
		t.Errorf("C's reachability is %q, want private", got)
	}
	if got := Reachability(b.Host()); got != "public" {
		t.Errorf("B's reachability is %q, want public", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// C's reservation on B is made in the background: dial until it is
	// there. A refused dial is remembered by the swarm's backoff, which a
	// retry must clear.
	target := libp2ppeer.AddrInfo{ID: c.Host().ID(), Addrs: []ma.Multiaddr{circuitAddr(b, c)}}
	var lastErr error
	waitFor(t, "A to reach C through the relay", 20*time.Second, func() bool {
		a.Host().Network().(*swarm.Swarm).Backoff().Clear(target.ID)
		lastErr = a.Host().Connect(ctx, target)
		return lastErr == nil
	})
	data := make([]byte, 300<<10) // two blocks at the test's 256 KiB chunks
	rand.Read(data)
	res, err := c.Content().Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, ctx, a, res.Cid)
	if !bytes.Equal(got, data) {
		t.Fatalf("A read %d bytes that differ from the %d C added", len(got), len(data))
	}
	conns := a.Host().Network().ConnsToPeer(c.Host().ID())
	if len(conns) == 0 {
		t.Fatal("A is not connected to C after the fetch")
	}
	for _, conn := range conns {
		if _, err := conn.RemoteMultiaddr().ValueForProtocol(ma.P_CIRCUIT); err != nil {
			t.Fatalf("A reached C directly at %s; the content did not go through the relay", conn.RemoteMultiaddr())
		}
	}
}
