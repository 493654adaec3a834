package peer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
)

// Local addresses: TCP first, the rest later; all others as the default ranks them.
func TestDialRankerLocalTCPFirst(t *testing.T) {
	relayID, err := libp2ppeer.IDFromPrivateKey(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	relay := "/ip4/192.168.1.7/tcp/4201/p2p/" + relayID.String() + "/p2p-circuit"
	for _, tc := range []struct {
		name         string
		local, other []string
	}{
		{"loopback", []string{
			"/ip4/127.0.0.1/udp/4201/quic-v1",
			"/ip4/127.0.0.1/tcp/4201",
			"/ip6/::1/udp/4201/quic-v1",
			"/ip6/::1/udp/4201/quic-v1/webtransport",
			"/ip6/::1/tcp/4201",
		}, nil},
		{"private networks", []string{
			"/ip4/192.168.1.7/udp/4201/quic-v1",
			"/ip4/10.1.2.3/tcp/4201",
			"/ip6/fd00::7/udp/4201/quic-v1",
			"/ip6/fe80::7/tcp/4201",
		}, nil},
		{"with public and relay", []string{
			"/ip4/127.0.0.1/udp/4201/quic-v1",
			"/ip4/127.0.0.1/tcp/4201",
		}, []string{
			"/ip4/203.0.113.9/udp/4201/quic-v1",
			"/ip4/203.0.113.9/tcp/4201",
			"/ip4/100.64.0.9/udp/4201/quic-v1", // carrier-grade NAT
			"/ip4/100.64.0.9/tcp/4201",
			relay,
		}},
		{"public only", nil, []string{
			"/ip4/203.0.113.9/udp/4201/quic-v1",
			"/ip4/203.0.113.9/tcp/4201",
			"/ip6/2001:db8::9/udp/4201/quic-v1",
			"/ip6/2001:db8::9/tcp/4201",
		}},
		{"relay only", nil, []string{relay}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := append(slices.Clone(tc.local), tc.other...)
			got := schedule(dialRanker(parseAddrs(t, all)))
			// The rest are ranked as if the local addresses were not there.
			want := schedule(swarm.DefaultDialRanker(parseAddrs(t, tc.other)))
			if len(got) != len(all) {
				t.Fatalf("ranked %d of %d addresses: %v", len(got), len(all), got)
			}
			for _, a := range tc.other {
				if got[a] != want[a] {
					t.Errorf("%s: delay %s, default %s", a, got[a], want[a])
				}
			}
			if len(tc.local) == 0 {
				return
			}
			var tcp, udp []time.Duration
			for _, a := range tc.local {
				if isTCP(ma.StringCast(a)) {
					tcp = append(tcp, got[a])
				} else {
					udp = append(udp, got[a])
				}
			}
			if slices.Min(tcp) != 0 {
				t.Errorf("first TCP dial after %s, want at once: %v", slices.Min(tcp), got)
			}
			if slices.Min(udp) <= slices.Max(tcp) {
				t.Errorf("QUIC dialed after %s, before the last TCP dial (%s): %v", slices.Min(udp), slices.Max(tcp), got)
			}
		})
	}
}

func parseAddrs(t *testing.T, ss []string) []ma.Multiaddr {
	t.Helper()
	var addrs []ma.Multiaddr
	for _, s := range ss {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, a)
	}
	return addrs
}

func schedule(ds []network.AddrDelay) map[string]time.Duration {
	m := make(map[string]time.Duration, len(ds))
	for _, d := range ds {
		m[d.Addr.String()] = d.Delay
	}
	return m
}

func newKey(tb testing.TB) crypto.PrivKey {
	tb.Helper()
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// loopbackHost is a host as newHost builds it for a node, listening on
// the given loopback addresses.
func loopbackHost(tb testing.TB, listen ...string) host.Host {
	tb.Helper()
	cfg := testConfig()
	cfg.Swarm.Listen = listen
	h, err := newHost(newKey(tb), cfg, newNodeMetrics())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	return h
}

// Two peers that both listen on TCP and QUIC, as by default, connect over TCP.
func TestLocalPeersConnectOverTCP(t *testing.T) {
	listen := testConfig().Swarm.Listen // loopback TCP and QUIC
	a, b := loopbackHost(t, listen...), loopbackHost(t, listen...)
	var quic bool
	for _, addr := range b.Addrs() {
		quic = quic || !isTCP(addr)
	}
	if !quic || len(b.Addrs()) < 2 {
		t.Fatalf("want TCP and QUIC addresses, have %v", b.Addrs())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := a.Connect(ctx, libp2ppeer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	conns := a.Network().ConnsToPeer(b.ID())
	if len(conns) == 0 {
		t.Fatal("connected, but no connection")
	}
	for _, c := range conns {
		if !isTCP(c.RemoteMultiaddr()) {
			t.Errorf("connection over %s, want TCP", c.RemoteMultiaddr())
		}
	}
}

// BenchmarkStreamTCPvsQUIC moves 64 MiB over one stream between two hosts
// on loopback, over each transport: the measurement behind dialRanker.
func BenchmarkStreamTCPvsQUIC(b *testing.B) {
	for _, tc := range []struct{ name, listen string }{
		{"tcp", "/ip4/127.0.0.1/tcp/0"},
		{"quic", "/ip4/127.0.0.1/udp/0/quic-v1"},
	} {
		b.Run(tc.name, func(b *testing.B) { benchmarkStream(b, tc.listen) })
	}
}

func benchmarkStream(b *testing.B, listen string) {
	const proto, size = protocol.ID("/cairn-bench/sink"), 64 << 20
	src, dst := loopbackHost(b, listen), loopbackHost(b, listen)
	dst.SetStreamHandler(proto, func(s network.Stream) {
		if _, err := io.Copy(io.Discard, s); err != nil {
			s.Reset()
			return
		}
		s.Close() // the sender's EOF: all of it arrived
	})
	ctx := b.Context()
	if err := src.Connect(ctx, libp2ppeer.AddrInfo{ID: dst.ID(), Addrs: dst.Addrs()}); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	for b.Loop() {
		if err := send(ctx, src, dst.ID(), proto, buf, size/len(buf)); err != nil {
			b.Fatal(err)
		}
	}
}

func send(ctx context.Context, h host.Host, to libp2ppeer.ID, proto protocol.ID, buf []byte, n int) error {
	s, err := h.NewStream(ctx, to, proto)
	if err != nil {
		return err
	}
	defer s.Close()
	for range n {
		if _, err := s.Write(buf); err != nil {
			return err
		}
	}
	if err := s.CloseWrite(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, s); err != nil {
		return fmt.Errorf("waiting for the receiver: %w", err)
	}
	return nil
}
