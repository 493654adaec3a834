package peer

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cairnnet/cairn/discovery"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autonat"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Values of reachability.force.
const (
	ForceAuto    = "auto"    // AutoNAT decides
	ForcePublic  = "public"  // believe the node is publicly reachable
	ForcePrivate = "private" // believe the node is behind NAT
)

// ReachabilityConfig is the reachability section of config.yaml: how a
// node behind NAT is reached and how it helps others. Every piece is
// go-libp2p's; this only switches them.
type ReachabilityConfig struct {
	// Force replaces AutoNAT's verdict: auto (default) lets peers that
	// serve AutoNAT dial back to find out; public or private skips that,
	// for a relay known to be public or a node known to be behind NAT.
	// (go-libp2p always runs the AutoNAT client; forcing is its off switch.)
	Force string `yaml:"force"`
	// AutoNATService answers other peers' AutoNAT dial-back requests
	// (v1 and v2), rate limited by go-libp2p. Default true.
	AutoNATService bool `yaml:"autonat_service"`
	// RelayClient uses circuit relay v2: dials /p2p-circuit addresses and,
	// while the node is not publicly reachable, reserves a slot on relays
	// (AutoRelay) and advertises its relay addresses. Default true.
	RelayClient bool `yaml:"relay_client"`
	// StaticRelays are relays to reserve slots on, as multiaddrs ending in
	// /p2p/<id>. Empty means: pick relays among connected peers.
	StaticRelays []string `yaml:"static_relays"`
	// RelayService relays for others, but only while AutoNAT (or Force)
	// says this node is publicly reachable. Default true.
	RelayService bool `yaml:"relay_service"`
	// RelayDurationLimit and RelayDataLimit bound each relayed connection
	// (go-libp2p's defaults: 2m and 128 KiB), enough to coordinate a hole
	// punch. Both 0 relays without limit, so relayed connections carry
	// content too: for a private network's own relays.
	RelayDurationLimit time.Duration `yaml:"relay_duration_limit"`
	RelayDataLimit     int64         `yaml:"relay_data_limit"`
	// HolePunching upgrades relayed connections to direct ones (DCUtR).
	// Default true.
	HolePunching bool `yaml:"hole_punching"`
	// PortMapping asks the router for a port by UPnP or NAT-PMP. Default
	// true, but it only runs when some listen address is not loopback:
	// a loopback-only node (tests, devnets) has nothing to map and must
	// not send discovery multicast onto the network.
	PortMapping bool `yaml:"port_mapping"`
}

// DefaultReachabilityConfig returns the documented defaults.
func DefaultReachabilityConfig() ReachabilityConfig {
	def := relayv2.DefaultLimit()
	return ReachabilityConfig{
		Force:              ForceAuto,
		AutoNATService:     true,
		RelayClient:        true,
		RelayService:       true,
		RelayDurationLimit: def.Duration,
		RelayDataLimit:     def.Data,
		HolePunching:       true,
		PortMapping:        true,
	}
}

// Validate reports the first field that cannot work, by its config key.
func (c ReachabilityConfig) Validate() error {
	switch c.Force {
	case ForceAuto, ForcePublic, ForcePrivate:
	default:
		return fmt.Errorf("reachability.force: %q is not one of auto, public, private", c.Force)
	}
	if _, err := c.staticRelays(); err != nil {
		return err
	}
	if len(c.StaticRelays) > 0 && !c.RelayClient {
		return fmt.Errorf("reachability.static_relays: set, but reachability.relay_client is false")
	}
	if c.RelayDurationLimit < 0 || c.RelayDataLimit < 0 || (c.RelayDurationLimit == 0) != (c.RelayDataLimit == 0) {
		return fmt.Errorf("reachability.relay_duration_limit and relay_data_limit: both positive, or both 0 for no limit (got %s, %d)", c.RelayDurationLimit, c.RelayDataLimit)
	}
	return nil
}

func (c ReachabilityConfig) staticRelays() ([]libp2ppeer.AddrInfo, error) {
	pis, err := discovery.ParseBootstrap(c.StaticRelays)
	if err != nil {
		// ParseBootstrap names its own key; say which list it was.
		return nil, fmt.Errorf("reachability.static_relays: %w", err)
	}
	return pis, nil
}

// options turns the section into libp2p options. self is filled in once
// the host exists, for the relay peer source that needs it.
func (c ReachabilityConfig) options(listen []string, self *atomic.Pointer[host.Host]) ([]libp2p.Option, error) {
	var opts []libp2p.Option
	switch c.Force {
	case ForcePublic:
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case ForcePrivate:
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	if c.AutoNATService {
		opts = append(opts, libp2p.EnableNATService(), libp2p.EnableAutoNATv2())
	}
	if c.RelayClient {
		relays, err := c.staticRelays()
		if err != nil {
			return nil, err
		}
		opts = append(opts, libp2p.EnableRelay())
		if len(relays) > 0 {
			opts = append(opts, libp2p.EnableAutoRelayWithStaticRelays(relays))
		} else {
			opts = append(opts, libp2p.EnableAutoRelayWithPeerSource(connectedRelays(self)))
		}
	} else {
		opts = append(opts, libp2p.DisableRelay())
	}
	if c.RelayService {
		var ropts []relayv2.Option
		if c.RelayDurationLimit == 0 {
			ropts = append(ropts, relayv2.WithInfiniteLimits())
		} else {
			ropts = append(ropts, relayv2.WithLimit(&relayv2.RelayLimit{Duration: c.RelayDurationLimit, Data: c.RelayDataLimit}))
		}
		opts = append(opts, libp2p.EnableRelayService(ropts...))
	}
	if c.HolePunching {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	if c.PortMapping && !loopbackOnly(listen) {
		opts = append(opts, libp2p.NATPortMap())
	}
	return opts, nil
}

// loopbackOnly reports whether every listen address is on loopback.
func loopbackOnly(listen []string) bool {
	for _, s := range listen {
		m, err := ma.NewMultiaddr(s)
		if err != nil || !manet.IsIPLoopback(m) {
			return false
		}
	}
	return true
}

// connectedRelays offers AutoRelay the connected peers that speak the
// relay v2 hop protocol, as Kubo offers DHT peers: no relay list to keep.
func connectedRelays(self *atomic.Pointer[host.Host]) autorelay.PeerSource {
	return func(ctx context.Context, num int) <-chan libp2ppeer.AddrInfo {
		out := make(chan libp2ppeer.AddrInfo, num)
		defer close(out)
		hp := self.Load()
		if hp == nil {
			return out // asked before the host was built
		}
		h := *hp
		for _, p := range h.Network().Peers() {
			if len(out) == num {
				break
			}
			if ok, _ := h.Peerstore().SupportsProtocols(p, proto.ProtoIDv2Hop); len(ok) == 0 {
				continue
			}
			out <- libp2ppeer.AddrInfo{ID: p, Addrs: h.Peerstore().Addrs(p)}
		}
		return out
	}
}

// Reachability is what AutoNAT (or reachability.force) last concluded:
// "public", "private" or "unknown".
func Reachability(h host.Host) string {
	// go-libp2p's basic host keeps the verdict; hosts that do not (mocks)
	// are unknown.
	if an, ok := h.(interface{ GetAutoNat() autonat.AutoNAT }); ok && an.GetAutoNat() != nil {
		return reachabilityName(an.GetAutoNat().Status())
	}
	return "unknown"
}

func reachabilityName(r network.Reachability) string {
	switch r {
	case network.ReachabilityPublic:
		return "public"
	case network.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}
