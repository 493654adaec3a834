// Package discovery finds the node's neighbours and keeps it connected:
// bootstrap upkeep with backoff and mDNS on the LAN.
package discovery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

// mdnsServiceName is the DNS-SD service Cairn peers announce on the LAN.
const mdnsServiceName = "_cairn-p2p._udp"

// dialTimeout bounds one dial to one discovered peer.
const dialTimeout = 15 * time.Second

// Bootstrapper is what discovery needs from routing: a nudge to refresh its
// tables once new neighbours are connected (routing.Routing has it).
type Bootstrapper interface {
	Bootstrap(ctx context.Context) error
}

// Discovery owns the goroutines that keep the node connected.
type Discovery struct {
	host      host.Host
	routing   Bootstrapper
	cfg       Config
	bootstrap []peer.AddrInfo
	minPeers  int

	mdns   mdns.Service
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// New starts discovery on h. minPeers is the connection count below which
// upkeep dials bootstrap peers again (connections.low). routing may be nil.
func New(h host.Host, routing Bootstrapper, cfg Config, minPeers int) (*Discovery, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bootstrap, err := ParseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Discovery{host: h, routing: routing, cfg: cfg, bootstrap: bootstrap, minPeers: max(minPeers, 1), ctx: ctx, cancel: cancel}
	if cfg.MDNS {
		d.mdns = mdns.NewMdnsService(h, mdnsServiceName, d)
		if err := d.mdns.Start(); err != nil {
			cancel()
			return nil, errors.Join(err, d.mdns.Close())
		}
	}
	d.wg.Go(d.upkeep)
	return d, nil
}

// Close stops discovery and waits for its goroutines. Safe to call twice.
func (d *Discovery) Close() error {
	var err error
	d.once.Do(func() {
		d.cancel()
		if d.mdns != nil {
			err = d.mdns.Close()
		}
		d.wg.Wait()
	})
	return err
}

// HandlePeerFound is called by mDNS for each peer seen on the LAN.
func (d *Discovery) HandlePeerFound(pi peer.AddrInfo) {
	if pi.ID == d.host.ID() || d.ctx.Err() != nil {
		return
	}
	d.wg.Go(func() {
		ctx, cancel := context.WithTimeout(d.ctx, dialTimeout)
		defer cancel()
		if err := d.host.Connect(ctx, pi); err != nil {
			slog.Debug("mdns: connect failed", "peer", pi.ID, "err", err)
		}
	})
}

// upkeep dials the bootstrap peers whenever the node has too few
// connections, backing off while none of them answer.
func (d *Discovery) upkeep() {
	wait, backoff := time.Duration(0), time.Duration(0)
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(wait):
		}
		if len(d.host.Network().Peers()) >= d.minPeers || len(d.bootstrap) == 0 || d.dialBootstrap() > 0 {
			wait, backoff = d.cfg.Interval, 0
			continue
		}
		backoff = nextBackoff(backoff, d.cfg.MaxBackoff)
		wait = backoff
		slog.Debug("bootstrap: no peer answered", "retry_in", wait)
	}
}

// nextBackoff doubles the wait after a failed round, starting at one
// second so a peer started just before its bootstrap joins quickly.
func nextBackoff(cur, ceiling time.Duration) time.Duration {
	switch {
	case cur < time.Second:
		return min(time.Second, ceiling)
	case cur*2 > ceiling:
		return ceiling
	}
	return cur * 2
}

// dialBootstrap connects to every bootstrap peer not yet connected and
// reports how many are connected afterwards.
func (d *Discovery) dialBootstrap() int {
	ctx, cancel := context.WithTimeout(d.ctx, dialTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, pi := range d.bootstrap {
		if pi.ID == d.host.ID() {
			continue
		}
		wg.Go(func() {
			if err := d.host.Connect(ctx, pi); err != nil {
				slog.Debug("bootstrap: connect failed", "peer", pi.ID, "err", err)
			}
		})
	}
	wg.Wait()
	connected := 0
	for _, pi := range d.bootstrap {
		if len(d.host.Network().ConnsToPeer(pi.ID)) > 0 {
			connected++
		}
	}
	if connected > 0 && d.routing != nil {
		if err := d.routing.Bootstrap(d.ctx); err != nil {
			slog.Debug("bootstrap: routing refresh failed", "err", err)
		}
	}
	return connected
}
