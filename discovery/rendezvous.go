package discovery

import (
	"context"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	dutil "github.com/libp2p/go-libp2p/p2p/discovery/util"
)

// rendezvousLimit bounds how many peers one rendezvous lookup returns.
const rendezvousLimit = 50

// findTimeout bounds one rendezvous lookup: a DHT walk that has not found
// peers in this time will not find them by waiting longer.
const findTimeout = 20 * time.Second

// advertise keeps this peer's record under the namespace in the DHT. It
// is go-libp2p's util.Advertise, rewritten only so the loop is owned (it
// stops with Close and is waited for) and so a failed round retries after
// one second, doubling up to discovery.max_backoff, rather than after two
// minutes: the first attempts fail while the routing table is still empty,
// and a new peer should become findable as soon as it has neighbours.
func (d *Discovery) advertise(rd *drouting.RoutingDiscovery) {
	backoff := time.Duration(0)
	for {
		ttl, err := rd.Advertise(d.ctx, d.cfg.Namespace)
		var wait time.Duration
		if err != nil {
			backoff = nextBackoff(backoff, d.cfg.MaxBackoff)
			wait = backoff
			slog.Debug("rendezvous: advertise failed", "namespace", d.cfg.Namespace, "retry_in", wait, "err", err)
		} else {
			// Re-advertise before the record expires, as util.Advertise does.
			backoff, wait = 0, 7*ttl/8
		}
		select {
		case <-d.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// findRendezvous looks up other peers advertising the namespace.
func (d *Discovery) findRendezvous(ctx context.Context) []peer.AddrInfo {
	if d.rendezvous == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	found, err := dutil.FindPeers(ctx, d.rendezvous, d.cfg.Namespace, discovery.Limit(rendezvousLimit))
	if err != nil {
		slog.Debug("rendezvous: lookup failed", "namespace", d.cfg.Namespace, "err", err)
	}
	return found
}
