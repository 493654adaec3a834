// Package p2ptest holds libp2p helpers that several packages' tests share.
package p2ptest

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// identifyTimeout bounds the wait for identify on loopback connections.
const identifyTimeout = 10 * time.Second

// ConnectIdentified connects h to each of peers and waits until identify
// has run on each connection, so that h knows the protocols they speak:
// code that picks peers by protocol (the fast path) sees them at once.
func ConnectIdentified(tb testing.TB, h host.Host, peers ...host.Host) {
	tb.Helper()
	// Subscribed before connecting, so no completion is missed.
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		tb.Fatal(err)
	}
	defer sub.Close()
	want := make(map[peer.ID]bool)
	for _, p := range peers {
		want[p.ID()] = true
		if err := h.Connect(tb.Context(), peer.AddrInfo{ID: p.ID(), Addrs: p.Addrs()}); err != nil {
			tb.Fatal(err)
		}
	}
	deadline := time.After(identifyTimeout)
	for len(want) > 0 {
		select {
		case e := <-sub.Out():
			delete(want, e.(event.EvtPeerIdentificationCompleted).Peer)
		case <-deadline:
			tb.Fatalf("identify did not complete with %d peers", len(want))
		}
	}
}
