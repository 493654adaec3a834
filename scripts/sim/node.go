package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/dht"
	"github.com/cairnnet/cairn/discovery"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	ma "github.com/multiformats/go-multiaddr"
)

// Cairn's default connections section: the connection manager trims to
// connsLow above connsHigh, sparing connections younger than connsGrace,
// and discovery dials more peers below connsLow.
const (
	connsLow   = 32
	connsHigh  = 96
	connsGrace = 20 * time.Second
)

// node is one simulated Cairn peer: Cairn's own dht, content and discovery
// over a mocknet host, with an in-memory datastore that outlives restarts,
// so a peer that rejoins comes back with its identity, blocks, pins and
// provider records.
type node struct {
	idx     int
	key     crypto.PrivKey
	id      peer.ID
	addr    ma.Multiaddr
	ds      datastore.Batching
	tap     *tap
	seed    bool
	churner bool

	// busy is held by a lookup running on the node, and by stop, so a
	// churning peer does not leave in the middle of its own lookup.
	busy   sync.Mutex
	looked map[string]bool // CIDs this node looked up; guarded by busy

	mu      sync.Mutex // guards the rest; held across start and stop
	up      bool
	host    *simHost
	dht     *dht.DHT
	content *content.Content
	disc    *discovery.Discovery
}

func newNode(idx int, a *announceCounts) (*node, error) {
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, err
	}
	// A public address, so peers enter each other's WAN routing tables,
	// each in a /16 of its own, as the WAN DHT's diversity filter admits
	// only a few peers per /16; mocknet never sends a packet to it.
	addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/%d.%d.0.1/tcp/4001", 11+idx>>8, idx&255))
	if err != nil {
		return nil, err
	}
	return &node{idx: idx, key: key, id: id, addr: addr, ds: content.NewMemoryDatastore(), tap: newTap(a), looked: map[string]bool{}}, nil
}

// bootstrapAddr is the node's address as a discovery.bootstrap entry.
func (n *node) bootstrapAddr() string {
	return n.addr.String() + "/p2p/" + n.id.String()
}

// start joins the network: a fresh mocknet host with the node's key, then
// dht, content and discovery as peer.New builds them.
func (n *node) start(ctx context.Context, s *sim) (err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.up {
		return nil
	}
	h, err := s.net.mn.AddPeer(n.key, n.addr)
	if err != nil {
		return fmt.Errorf("node %d: add peer: %w", n.idx, err)
	}
	cm, err := connmgr.NewConnManager(connsLow, connsHigh, connmgr.WithGracePeriod(connsGrace))
	if err != nil {
		return errors.Join(fmt.Errorf("node %d: %w", n.idx, err), h.Close())
	}
	h.Network().Notify(cm.Notifee())
	s.net.setOnline(n.id, true)
	n.host = &simHost{Host: h, net: s.net, tap: n.tap, cm: cm}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.closeAll(s))
		}
	}()
	if n.dht, err = dht.New(n.host, n.ds, s.dhtCfg, s.bootstrap); err != nil {
		return fmt.Errorf("node %d: %w", n.idx, err)
	}
	if n.content, err = content.New(ctx, n.host, n.dht, n.ds, s.contentCfg); err != nil {
		return fmt.Errorf("node %d: %w", n.idx, err)
	}
	if n.disc, err = discovery.New(n.host, n.dht, n.ds, s.discCfg, connsLow); err != nil {
		return fmt.Errorf("node %d: %w", n.idx, err)
	}
	n.up = true
	return nil
}

// stop leaves the network: the peer is unlinked first, as a machine that
// drops off does, then its components and host are closed.
func (n *node) stop(s *sim) error {
	n.busy.Lock()
	defer n.busy.Unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.up {
		return nil
	}
	n.up = false
	return n.closeAll(s)
}

func (n *node) closeAll(s *sim) error {
	s.net.setOnline(n.id, false)
	var errs []error
	if n.disc != nil {
		errs = append(errs, n.disc.Close())
	}
	if n.content != nil {
		errs = append(errs, n.content.Close())
	}
	if n.dht != nil {
		errs = append(errs, n.dht.Close())
	}
	if n.host != nil {
		errs = append(errs, n.host.Close())
	}
	n.host, n.dht, n.content, n.disc = nil, nil, nil, nil
	return errors.Join(errs...)
}

// peek is running without waiting: a node being started or stopped
// counts as offline.
func (n *node) peek() (*dht.DHT, bool) {
	if !n.mu.TryLock() {
		return nil, false
	}
	defer n.mu.Unlock()
	return n.dht, n.up
}

// running returns the node's components if it is online.
func (n *node) running() (*dht.DHT, *content.Content, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dht, n.content, n.up
}

// cutOff unlinks the node and closes its connections, leaving its
// components running with no network.
func (n *node) cutOff(s *sim) {
	s.net.setOnline(n.id, false)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.host != nil {
		for _, c := range n.host.Network().Conns() {
			_ = c.Close()
		}
	}
}

// isUp reports whether the node is online.
func (n *node) isUp() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.up
}

// connect dials pi from the node, if it is online.
func (n *node) connect(ctx context.Context, pi peer.AddrInfo) error {
	n.mu.Lock()
	h := n.host
	n.mu.Unlock()
	if h == nil {
		return errors.New("node is offline")
	}
	return h.Connect(ctx, pi)
}
