package peer

import (
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// dialRanker schedules the swarm's dials: go-libp2p's default dials QUIC
// first and TCP only if QUIC has not connected after a delay. But between
// two processes on one machine a go-libp2p stream carried ~950 MB/s over
// TCP+TLS and ~390 MB/s over QUIC (BenchmarkStreamTCPvsQUIC measures it
// through newHost), and on a LAN QUIC's strengths, NAT traversal and loss
// recovery, buy nothing. So on loopback and private networks TCP goes
// first, and QUIC (WebTransport, WebRTC) follows the last TCP dial by
// swarm.PrivateTCPDelay, the head start the default gives QUIC there; a
// refused TCP dial starts it at once. Public and relay addresses keep the
// default's schedule.
func dialRanker(addrs []ma.Multiaddr) []network.AddrDelay {
	var tcp, udp, rest []ma.Multiaddr
	for _, a := range addrs {
		switch {
		case !isLocal(a):
			rest = append(rest, a)
		case isTCP(a):
			tcp = append(tcp, a)
		default:
			udp = append(udp, a)
		}
	}
	if len(tcp) == 0 {
		return swarm.DefaultDialRanker(addrs)
	}
	res := swarm.DefaultDialRanker(tcp)
	var last time.Duration
	for _, d := range res {
		last = max(last, d.Delay)
	}
	for _, d := range swarm.DefaultDialRanker(udp) {
		d.Delay += last + swarm.PrivateTCPDelay
		res = append(res, d)
	}
	return append(res, swarm.DefaultDialRanker(rest)...)
}

// isLocal reports a direct address on loopback, a private network (RFC
// 1918, ULA) or a link. Unlike manet.IsPrivateAddr it leaves out
// 100.64.0.0/10: carrier-grade NAT and tunnels such as Tailscale, whose
// paths are the kind QUIC is chosen for.
func isLocal(a ma.Multiaddr) bool {
	if _, err := a.ValueForProtocol(ma.P_CIRCUIT); err == nil {
		return false
	}
	ip, err := manet.ToIP(a)
	return err == nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

func isTCP(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_TCP)
	return err == nil
}
