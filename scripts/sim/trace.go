package main

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// trace records one find-providers lookup from the requester's side: whom
// it asked, and who first told it about each peer.
//
// Hops are the depth of the query path to the first answer that carried a
// provider record: a peer the requester asked before any answer named it
// came from its own routing table and is at depth 1; a peer first named by
// an answer from a peer at depth d is at depth d+1. A record found in the
// requester's own store is 0 hops.
type trace struct {
	mu       sync.Mutex
	asked    map[peer.ID]time.Time // first request to each peer
	learned  map[peer.ID]learn     // first answer naming each peer
	first    *learn                // first answer with a provider record
	requests int
	answers  int
}

type learn struct {
	from peer.ID
	at   time.Time
}

func (t *trace) ask(p peer.ID, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	if _, ok := t.asked[p]; !ok {
		t.asked[p] = at
	}
}

func (t *trace) answer(from peer.ID, at time.Time, closer []peer.ID, providers int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.answers++
	for _, c := range closer {
		if _, ok := t.learned[c]; !ok {
			t.learned[c] = learn{from, at}
		}
	}
	if providers > 0 && t.first == nil {
		t.first = &learn{from, at}
	}
}

// hops is the depth of the first answer with a provider record, and
// whether there was one.
func (t *trace) hops() (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first == nil {
		return 0, false
	}
	return t.depth(t.first.from, len(t.asked)), true
}

// depth of p; guard bounds the walk (times only go backwards along it, so
// it ends anyway).
func (t *trace) depth(p peer.ID, guard int) int {
	l, ok := t.learned[p]
	if !ok || guard <= 0 {
		return 1
	}
	if at, asked := t.asked[p]; asked && at.Before(l.at) {
		return 1
	}
	return t.depth(l.from, guard-1) + 1
}

// messages is the number of GET_PROVIDERS requests sent and answers read.
func (t *trace) messages() (requests, answers int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests, t.answers
}
