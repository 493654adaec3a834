package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// errOffline is what a dial to a peer that has left the network returns,
// after deadDial: a real dial to a vanished host fails only after a
// timeout, and that wait is part of what churn costs a lookup.
var errOffline = errors.New("sim: peer is offline")

// simNet is the simulated internet: a mocknet whose links are made on the
// first dial between two peers, with a latency drawn from the mix for that
// pair. Linking every pair up front would cost N²/2 links (500,000 at
// N=1,000) of which a node ever uses a few hundred.
type simNet struct {
	mn        mocknet.Mocknet
	mix       latencyMix
	seed      int64
	bandwidth float64
	deadDial  time.Duration

	mu     sync.RWMutex
	online map[peer.ID]bool
	links  map[pair]mocknet.Link
	byPeer map[peer.ID]map[pair]struct{}

	made atomic.Int64 // links ever made, for the report
}

// pair names an unordered pair of peers.
type pair struct{ a, b peer.ID }

func makePair(x, y peer.ID) pair {
	if x > y {
		x, y = y, x
	}
	return pair{x, y}
}

func newSimNet(cfg config) *simNet {
	return &simNet{
		mn: mocknet.New(), mix: cfg.Latency, seed: cfg.Seed,
		bandwidth: cfg.Bandwidth, deadDial: cfg.DeadDial,
		online: map[peer.ID]bool{}, links: map[pair]mocknet.Link{}, byPeer: map[peer.ID]map[pair]struct{}{},
	}
}

// reach makes sure from can dial to: it links the two on first use, and
// fails after deadDial (or when ctx ends) if to is offline.
func (n *simNet) reach(ctx context.Context, from, to peer.ID) error {
	if from == to {
		return nil
	}
	p := makePair(from, to)
	n.mu.RLock()
	_, ok := n.links[p]
	n.mu.RUnlock()
	if ok {
		return nil
	}
	n.mu.Lock()
	err := n.link(p, from, to)
	n.mu.Unlock()
	if !errors.Is(err, errOffline) {
		return err
	}
	t := time.NewTimer(n.deadDial)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return fmt.Errorf("dial %s: %w", to, errOffline)
}

// link adds the link for p; n.mu is held.
func (n *simNet) link(p pair, from, to peer.ID) error {
	if _, ok := n.links[p]; ok {
		return nil
	}
	if !n.online[to] || !n.online[from] {
		return errOffline
	}
	l, err := n.mn.LinkPeers(from, to)
	if err != nil {
		return fmt.Errorf("link %s to %s: %w", from, to, err)
	}
	l.SetOptions(mocknet.LinkOptions{Latency: n.latency(p), Bandwidth: n.bandwidth})
	n.links[p] = l
	for _, id := range []peer.ID{p.a, p.b} {
		if n.byPeer[id] == nil {
			n.byPeer[id] = map[pair]struct{}{}
		}
		n.byPeer[id][p] = struct{}{}
	}
	n.made.Add(1)
	return nil
}

// latency is the one-way delay of p's link, the same on every run with
// the same seed.
func (n *simNet) latency(p pair) time.Duration {
	h := fnv.New64a()
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], uint64(n.seed))
	h.Write(s[:])
	h.Write([]byte(p.a))
	h.Write([]byte(p.b))
	return n.mix.pick(float64(h.Sum64()>>11) / (1 << 53))
}

// setOnline marks id reachable (true) or gone (false). Going offline
// removes every link of id, so nothing can dial it, with or without reach.
func (n *simNet) setOnline(id peer.ID, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.online[id] = on
	if on {
		return
	}
	for p := range n.byPeer[id] {
		_ = n.mn.Unlink(n.links[p])
		delete(n.links, p)
		other := p.a
		if other == id {
			other = p.b
		}
		delete(n.byPeer[other], p)
	}
	delete(n.byPeer, id)
}

// isOnline reports whether id is in the network now.
func (n *simNet) isOnline(id peer.ID) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.online[id]
}

// linkCount is the number of live links.
func (n *simNet) linkCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.links)
}
