package peer

import (
	"context"
	"testing"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

func TestParseAddrFilters(t *testing.T) {
	nets, err := parseAddrFilters(PrivateAddrFilters)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		addr string
		in   bool
	}{
		{"/ip4/10.1.2.3/tcp/1", true},
		{"/ip4/192.168.0.9/udp/1/quic-v1", true},
		{"/ip4/127.0.0.1/tcp/1", true},
		{"/ip6/fe80::1/tcp/1", true},
		{"/ip4/8.8.8.8/tcp/1", false},
		{"/ip6/2606:4700::1111/tcp/1", false},
	} {
		if got := filtered(nets, ma.StringCast(tt.addr)); got != tt.in {
			t.Errorf("%s: filtered %v, want %v", tt.addr, got, tt.in)
		}
	}
	for _, bad := range []string{"/ip4/10.0.0.0", "/ip4/10.0.0.0/ipcidr/33", "/ip4/10.0.0.0/tcp/1", "10.0.0.0/8"} {
		if _, err := parseAddrFilters([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cfg := DefaultConfig()
	cfg.Swarm.AddrFilters = []string{"/ip4/10.0.0.0/ipcidr/8", "/ip4/nope"}
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepted a bad swarm.addr_filters")
	}
}

// A host with loopback filtered neither dials a peer on loopback, nor lets
// one connect to it, nor announces its loopback address.
func TestAddrFiltersGateConnections(t *testing.T) {
	cfg := testConfig()
	cfg.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
	cfg.Swarm.AddrFilters = []string{"/ip4/127.0.0.0/ipcidr/8"}
	strict, err := newHost(newKey(t), cfg, newNodeMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { strict.Close() })
	open := loopbackHost(t, "/ip4/127.0.0.1/tcp/0")
	if len(strict.Addrs()) != 0 {
		t.Fatalf("the filtered host announces %v", strict.Addrs())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := strict.Connect(ctx, libp2ppeer.AddrInfo{ID: open.ID(), Addrs: open.Addrs()}); err == nil {
		t.Fatal("the filtered host dialled a loopback address")
	}
	listen := strict.Network().ListenAddresses()
	if err := open.Connect(ctx, libp2ppeer.AddrInfo{ID: strict.ID(), Addrs: listen}); err == nil {
		t.Fatal("the filtered host accepted a connection from loopback")
	}
	// Between unfiltered hosts the same dial works: the refusals above are
	// the filter's.
	other := loopbackHost(t, "/ip4/127.0.0.1/tcp/0")
	if err := other.Connect(ctx, libp2ppeer.AddrInfo{ID: open.ID(), Addrs: open.Addrs()}); err != nil {
		t.Fatal(err)
	}
}
