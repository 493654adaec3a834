// Package discovery finds the node's neighbours and keeps it connected:
// bootstrap peers, peers remembered from earlier runs, rendezvous through
// the DHT and mDNS on the LAN, with connection upkeep that backs off.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// mdnsServiceName is the DNS-SD service Cairn peers announce on the LAN.
const mdnsServiceName = "_cairn-p2p._udp"

// dialTimeout bounds one dial to one discovered peer.
const dialTimeout = 15 * time.Second

// Routing is what discovery needs from the DHT: content routing to
// advertise and look up the rendezvous namespace, and a nudge to refresh
// its tables once new neighbours are connected. *dht.DHT has both.
type Routing interface {
	routing.ContentRouting
	Bootstrap(ctx context.Context) error
}

// Discovery owns the goroutines that keep the node connected.
type Discovery struct {
	host       host.Host
	routing    Routing
	cfg        Config
	bootstrap  []peer.AddrInfo
	minPeers   int
	ds         datastore.Datastore
	remembered *remembered
	rendezvous *drouting.RoutingDiscovery // nil when off
	wake       chan struct{}              // a peer left: run upkeep soon

	mdns     mdns.Service
	identify event.Subscription
	notifee  *network.NotifyBundle
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
	closeErr error

	// mu guards closed, so that no goroutine is added to wg once Close
	// has begun waiting: mDNS calls HandlePeerFound from goroutines of its
	// own that its Close does not wait for.
	mu     sync.Mutex
	closed bool
}

// New starts discovery on h. routing may be nil (no rendezvous, no table
// refresh); ds may be nil (nothing remembered). minPeers is the connection
// count below which upkeep dials more peers (connections.low).
func New(h host.Host, routing Routing, ds datastore.Datastore, cfg Config, minPeers int) (*Discovery, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bootstrap, err := ParseBootstrap(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Discovery{
		host: h, routing: routing, ds: ds, cfg: cfg, bootstrap: bootstrap, minPeers: max(minPeers, 1),
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel,
	}
	if err := d.start(); err != nil {
		return nil, errors.Join(err, d.Close())
	}
	return d, nil
}

func (d *Discovery) start() error {
	var err error
	if d.remembered, err = loadRemembered(d.ctx, d.ds, d.cfg.RememberedPeers); err != nil {
		return err
	}
	if d.cfg.RememberedPeers > 0 {
		// Identify reports the peer's listen addresses, which are what a
		// later dial needs; the connection's remote address of an inbound
		// peer is an ephemeral port.
		if d.identify, err = d.host.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted)); err != nil {
			return fmt.Errorf("discovery: subscribe to identify: %w", err)
		}
		d.wg.Go(d.rememberLoop)
	}
	d.notifee = &network.NotifyBundle{DisconnectedF: func(network.Network, network.Conn) { d.nudge() }}
	d.host.Network().Notify(d.notifee)
	if d.routing != nil && d.cfg.Namespace != "" {
		d.rendezvous = drouting.NewRoutingDiscovery(d.routing)
		d.wg.Go(func() { d.advertise(d.rendezvous) })
	}
	if d.cfg.MDNS {
		d.startMDNS()
	}
	d.wg.Go(d.upkeep)
	return nil
}

// startMDNS starts mDNS, or, where no interface can multicast (a
// container without a network, loopback and a tunnel), goes on without it
// after a warning: the other ways of finding peers still work.
func (d *Discovery) startMDNS() {
	m := mdns.NewMdnsService(d.host, mdnsServiceName, d)
	if err := m.Start(); err != nil {
		_ = m.Close() // ends what Start began; returns nil
		slog.Warn("discovery: mDNS off: no interface here can multicast", "err", err)
		return
	}
	d.mdns = m
}

// Close stops discovery and waits for its goroutines. Safe to call twice.
func (d *Discovery) Close() error {
	d.once.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		d.cancel()
		var errs []error
		if d.notifee != nil {
			d.host.Network().StopNotify(d.notifee)
		}
		if d.mdns != nil {
			if err := d.mdns.Close(); err != nil {
				errs = append(errs, fmt.Errorf("stop mdns: %w", err))
			}
		}
		if d.identify != nil {
			if err := d.identify.Close(); err != nil {
				errs = append(errs, fmt.Errorf("stop identify subscription: %w", err))
			}
		}
		d.wg.Wait()
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// mdnsYield is how long the peer with the larger ID waits before dialling
// a peer it found by mDNS. Both peers usually hear each other within the
// same millisecond; with TCP port reuse two simultaneous dials become one
// TCP simultaneous open in which both sides start a TLS/Noise handshake as
// the client, and both dials fail. Letting the smaller ID go first avoids
// that; the larger dials only if it is still not connected.
const mdnsYield = time.Second

// HandlePeerFound is called by mDNS for each peer seen on the LAN.
func (d *Discovery) HandlePeerFound(pi peer.AddrInfo) {
	if pi.ID == d.host.ID() {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	d.wg.Go(func() {
		if d.host.ID() > pi.ID {
			select {
			case <-d.ctx.Done():
				return
			case <-time.After(mdnsYield):
			}
			if d.host.Network().Connectedness(pi.ID) == network.Connected {
				return
			}
		}
		ctx, cancel := context.WithTimeout(d.ctx, dialTimeout)
		defer cancel()
		if err := d.host.Connect(ctx, pi); err != nil {
			slog.Debug("mdns: connect failed", "peer", pi.ID, "err", err)
		}
	})
}

// rememberLoop records each identified peer's listen addresses.
func (d *Discovery) rememberLoop() {
	for {
		select {
		case <-d.ctx.Done():
			return
		case e, ok := <-d.identify.Out():
			if !ok {
				return
			}
			ev := e.(event.EvtPeerIdentificationCompleted)
			if err := d.remembered.remember(d.ctx, ev.Peer, ev.ListenAddrs, time.Now()); err != nil && d.ctx.Err() == nil {
				slog.Debug("discovery: remember failed", "peer", ev.Peer, "err", err)
			}
		}
	}
}

// Remembered lists the peers kept for the next start, most recent first.
func (d *Discovery) Remembered() []peer.AddrInfo { return d.remembered.list() }

// nudge asks upkeep for a round soon, without blocking the caller (a
// network notification).
func (d *Discovery) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
