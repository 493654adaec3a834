package discovery

import (
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/netnstest"
	"github.com/libp2p/go-libp2p/core/network"
)

// loopbackMulticast is the namespace setup mDNS needs: loopback up and
// carrying multicast, the namespace's only interface.
const loopbackMulticast = "ip link set lo up && ip link set lo multicast on"

// Two peers on the same loopback, with no bootstrap and no routing, find
// each other by mDNS.
func TestMDNSFindsPeersWithoutBootstrap(t *testing.T) {
	if netnstest.Run(t, loopbackMulticast) {
		return
	}
	a := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	b := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	cfg := testConfig()
	cfg.MDNS = true
	startDiscovery(t, a, nil, nil, cfg, 32)
	startDiscovery(t, b, nil, nil, cfg, 32)
	waitFor(t, "a and b connected by mDNS", 20*time.Second, func() bool {
		return a.Network().Connectedness(b.ID()) == network.Connected
	})
}
