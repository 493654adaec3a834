package discovery

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/netnstest"
	"github.com/cairnnet/cairn/internal/syncbuf"
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

// Where no interface can multicast (here a namespace whose only
// interface is loopback, up but without multicast), discovery starts
// with mDNS off and says so in one warning, rather than failing: on main
// New failed with "start mdns: no supported interface", and the daemon
// exited.
func TestMDNSOffWhereNothingCanMulticast(t *testing.T) {
	if netnstest.Run(t, "ip link set lo up") {
		return
	}
	var logs syncbuf.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	h := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	cfg := testConfig()
	cfg.MDNS = true
	d := startDiscovery(t, h, nil, nil, cfg, 32)
	if d.mdns != nil {
		t.Fatal("mDNS is on, on a namespace where nothing can multicast")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "mDNS off") {
		t.Fatalf("want one warning that mDNS is off, got %q", logs.String())
	}
}
