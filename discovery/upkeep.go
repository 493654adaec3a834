package discovery

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// upkeep dials more peers whenever the node has fewer than minPeers
// connections: bootstrap peers, remembered peers, then peers found under
// the rendezvous namespace. A round that connects nobody new backs off up
// to max_backoff, so a node alone in its network never spins; a peer
// leaving wakes upkeep early, but never sooner than interval after the
// last round.
func (d *Discovery) upkeep() {
	timer := time.NewTimer(0)
	defer timer.Stop()
	backoff := time.Duration(0)
	var last time.Time
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-d.wake:
			// Resetting the backoff lets a node that lost peers look again
			// soon; the interval floor keeps a flapping peer from making
			// that a loop.
			backoff = 0
			timer.Reset(max(0, d.cfg.Interval-time.Since(last)))
			continue
		case <-timer.C:
		}
		last = time.Now()
		if d.connected() >= d.minPeers || d.round() > 0 {
			backoff = 0
			timer.Reset(d.cfg.Interval)
			continue
		}
		backoff = nextBackoff(backoff, d.cfg.MaxBackoff)
		slog.Debug("discovery: no new peer connected", "retry_in", backoff)
		timer.Reset(backoff)
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

func (d *Discovery) connected() int { return len(d.host.Network().Peers()) }

// round dials the bootstrap and remembered peers that are not connected,
// all at once so that dead bootstrap addresses (a QUIC dial to nobody
// takes seconds to fail) do not delay a rejoin through remembered peers;
// then, if still short, the peers found under the rendezvous namespace,
// which needs the routing table the first dials fill. It returns how many
// new peers answered.
func (d *Discovery) round() int {
	added := d.dialAll(append(slices.Clone(d.bootstrap), d.remembered.list()...))
	if d.connected() < d.minPeers {
		added += d.dialAll(d.findRendezvous(d.ctx))
	}
	if added > 0 && d.routing != nil {
		// New neighbours: let the DHT fill its tables from them now rather
		// than at its next refresh.
		if err := d.routing.Bootstrap(d.ctx); err != nil {
			slog.Debug("discovery: routing refresh failed", "err", err)
		}
	}
	return added
}

// dialAll connects, in parallel, to every peer in pis not yet connected,
// and reports how many it connected.
func (d *Discovery) dialAll(pis []peer.AddrInfo) int {
	ctx, cancel := context.WithTimeout(d.ctx, dialTimeout)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
	)
	self := d.host.ID()
	for _, pi := range pis {
		if pi.ID == self || len(d.host.Network().ConnsToPeer(pi.ID)) > 0 {
			continue
		}
		wg.Go(func() {
			if err := d.host.Connect(ctx, pi); err != nil {
				slog.Debug("discovery: connect failed", "peer", pi.ID, "err", err)
				return
			}
			mu.Lock()
			added++
			mu.Unlock()
		})
	}
	wg.Wait()
	return added
}
