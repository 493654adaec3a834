package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/internal/netnstest"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// publicIP is a globally routable address given to the namespace's
// loopback. go-libp2p treats only public addresses as worth relaying to
// (AutoRelay drops a relay's private and loopback addresses), so this is
// what lets a relay address appear on one machine. The namespace has no
// route out, so nothing is ever sent to the real 7.7.7.1.
const publicIP = "7.7.7.1"

// netnsSetup brings loopback up in the namespace and gives it publicIP.
const netnsSetup = "ip link set lo up && ip addr add " + publicIP + "/32 dev lo"

// With a relay on a public address, a peer behind NAT (C) advertises a
// relay address through it, /api/v0/id reports that address and the
// peer's reachability, and another peer behind NAT (A) reaches C at the
// very address C advertised and fetches content from it through the relay.
func TestIdentityAdvertisesRelayAddresses(t *testing.T) {
	if netnstest.Run(t, netnsSetup) {
		return
	}
	bcfg := testConfig()
	bcfg.Swarm.Listen = []string{"/ip4/" + publicIP + "/tcp/0"}
	bcfg.Reachability.Force = ForcePublic
	bcfg.Reachability.RelayDurationLimit, bcfg.Reachability.RelayDataLimit = 0, 0
	b := newTestNode(t, bcfg)
	a := newTestNode(t, behindRelay(b))
	c := newTestNode(t, behindRelay(b))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	be := &backend{n: c}
	var advertised []ma.Multiaddr
	waitFor(t, "C's identity to list a relay address through B", 20*time.Second, func() bool {
		id, err := be.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		advertised = advertised[:0]
		for _, addr := range id.Addresses {
			if strings.Contains(addr.String(), "/p2p/"+b.Host().ID().String()+"/p2p-circuit") {
				advertised = append(advertised, addr)
			}
		}
		return len(advertised) > 0 && id.Reachability == "private"
	})
	t.Logf("C advertises %v", advertised)

	if err := a.Host().Connect(ctx, libp2ppeer.AddrInfo{ID: c.Host().ID(), Addrs: advertised}); err != nil {
		t.Fatalf("A could not reach C at its advertised relay address: %v", err)
	}
	data := make([]byte, 100<<10)
	rand.Read(data)
	res, err := c.Content().Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, ctx, a, res.Cid); !bytes.Equal(got, data) {
		t.Fatalf("A read %d bytes that differ from the %d C added", len(got), len(data))
	}
}
