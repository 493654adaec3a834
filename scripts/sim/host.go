package main

import (
	"context"
	"errors"
	"strings"

	coreconnmgr "github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
)

// simHost is the host a simulated peer's components get: a mocknet host
// whose dials first make the link to the other peer (simNet.reach), and
// whose outgoing DHT streams are tapped, so the simulator sees every DHT
// request the peer sends and every answer it reads.
type simHost struct {
	host.Host
	net *simNet
	tap *tap
	cm  *connmgr.BasicConnMgr
}

// ConnManager is a real connection manager with Cairn's default limits:
// mocknet's hosts have none, and without one every peer would keep every
// connection it ever made. The components tag and protect through it.
func (h *simHost) ConnManager() coreconnmgr.ConnManager { return h.cm }

// Close closes the host, then its connection manager.
func (h *simHost) Close() error {
	return errors.Join(h.Host.Close(), h.cm.Close())
}

// Connect links to pi first, then dials as the mocknet host does.
func (h *simHost) Connect(ctx context.Context, pi peer.AddrInfo) error {
	if err := h.net.reach(ctx, h.ID(), pi.ID); err != nil {
		return err
	}
	return h.Host.Connect(ctx, pi)
}

// NewStream links to p first; a DHT stream comes back tapped.
func (h *simHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	if err := h.net.reach(ctx, h.ID(), p); err != nil {
		return nil, err
	}
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil || !isKad(pids) {
		return s, err
	}
	return &tapStream{Stream: s, tap: h.tap, peer: p}, nil
}

// isKad reports whether a stream is opened for a Kademlia protocol
// (/cairn/kad/1.0.0 or /cairn/lan/kad/1.0.0).
func isKad(pids []protocol.ID) bool {
	for _, p := range pids {
		if strings.HasSuffix(string(p), "/kad/1.0.0") {
			return true
		}
	}
	return false
}

// tapStream hands each complete message written or read to the tap. Writes
// are requests (and ADD_PROVIDER announcements), reads are answers: the
// stream is one this peer opened.
type tapStream struct {
	network.Stream
	tap     *tap
	peer    peer.ID
	out, in frames
}

// Write sends b and shows the tap each message it completes.
func (s *tapStream) Write(b []byte) (int, error) {
	n, err := s.Stream.Write(b)
	s.out.feed(b[:n], func(m []byte) { s.tap.sent(s.peer, m) })
	return n, err
}

// Read reads into b and shows the tap each message it completes.
func (s *tapStream) Read(b []byte) (int, error) {
	n, err := s.Stream.Read(b)
	s.in.feed(b[:n], func(m []byte) { s.tap.received(s.peer, m) })
	return n, err
}
