package peer

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
)

// AgentVersion is how Cairn introduces itself to other peers (identify).
const AgentVersion = "cairn/" + Version

// Version is Cairn's release.
const Version = "0.1.0"

// RepoVersion is the layout of the repo on disk (identity.key, config.yaml,
// datastore/packs with the blocks, datastore/meta in pebble), reported by
// /api/v0/repo/stat and /api/v0/version. Repos of layout 1, with blocks in
// datastore/blocks (flatfs), are still opened as they are.
const RepoVersion = "2"

// newHost builds the libp2p host: TCP and QUIC, Noise and TLS, yamux, with
// the resource and connection managers bounded by config, the reachability
// pieces (AutoNAT, relays, hole punching, port mapping) the config switches
// on, and, when the repo holds a swarm.key, a private network on TCP only.
func newHost(key crypto.PrivKey, cfg Config, m *nodeMetrics) (host.Host, error) {
	psk, err := LoadSwarmKey(cfg.RepoDir)
	if err != nil {
		return nil, err
	}
	listen := cfg.Swarm.Listen
	if psk != nil {
		if listen, err = privateListenAddrs(listen); err != nil {
			return nil, err
		}
	}
	// The relay peer source needs the host, which exists only after New.
	var self atomic.Pointer[host.Host]
	reach, err := cfg.Reachability.options(listen, &self)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.Connections.Low, cfg.Connections.High,
		connmgr.WithGracePeriod(cfg.Connections.GracePeriod))
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	rm, err := newResourceManager(cfg.Resources)
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.UserAgent(AgentVersion),
		// TCP first on local networks, where it is faster (dialrank.go).
		libp2p.SwarmOpts(swarm.WithDialRanker(dialRanker)),
		// The node's own registry, never the global one (metrics.go), and
		// the byte counts of stats/bw.
		libp2p.PrometheusRegisterer(m.reg),
		libp2p.BandwidthReporter(m.bw),
	}
	if len(listen) == 0 {
		// Reachable only through relays (reachability.static_relays);
		// without this, libp2p would listen on its default addresses.
		opts = append(opts, libp2p.NoListenAddrs)
	} else {
		opts = append(opts, libp2p.ListenAddrStrings(listen...))
	}
	// Only the transports Cairn listens on and dials: go-libp2p's default
	// set also builds WebSocket, WebTransport and WebRTC transports (and
	// a second AutoNAT v2 host for them), which cost about 1.1 MiB of an
	// idle daemon's RSS (medians of 8, alternating builds) and which no
	// Cairn config can listen on. A private network is TCP only: QUIC's
	// handshake cannot take a pre-shared key.
	filters, err := addrFilterOptions(cfg.Swarm.AddrFilters)
	if err != nil {
		rm.Close()
		return nil, err
	}
	opts = append(opts, filters...)
	opts = append(opts, libp2p.Transport(tcp.NewTCPTransport))
	if psk != nil {
		opts = append(opts, libp2p.PrivateNetwork(psk))
	} else {
		opts = append(opts, libp2p.Transport(quic.NewTransport))
	}
	h, err := libp2p.New(append(opts, reach...)...)
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	self.Store(&h)
	return h, nil
}

// newResourceManager scales go-libp2p's default limits (with the default
// service limits of its protocols) to the configured memory and descriptors.
func newResourceManager(cfg ResourcesConfig) (network.ResourceManager, error) {
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	var concrete rcmgr.ConcreteLimitConfig
	if cfg.MaxMemory == 0 && cfg.MaxFDs == 0 {
		concrete = limits.AutoScale()
	} else {
		mem, fds := cfg.MaxMemory, cfg.MaxFDs
		if mem == 0 {
			mem = 1 << 30
		}
		if fds == 0 {
			fds = processFDLimit() / 2
		}
		concrete = limits.Scale(mem, fds)
	}
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(concrete))
}

func processFDLimit() int {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil || l.Cur == 0 {
		return 1024
	}
	return int(min(l.Cur, 1<<20))
}
