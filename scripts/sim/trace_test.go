package main

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Hops follow who named whom: A and B come from the requester's own
// table (depth 1), A names C (2), C names D (3), and D's answer carries
// the record. E, named by B after the requester had already asked it,
// stays at depth 1.
func TestTraceHopsFollowTheQueryPath(t *testing.T) {
	a, b, c, d, e := peer.ID("a"), peer.ID("b"), peer.ID("c"), peer.ID("d"), peer.ID("e")
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := &trace{asked: map[peer.ID]time.Time{}, learned: map[peer.ID]learn{}}
	tr.ask(a, at(0))
	tr.ask(b, at(0))
	tr.ask(e, at(1))
	tr.answer(a, at(10), []peer.ID{c}, 0)
	tr.answer(b, at(12), []peer.ID{e, c}, 0)
	tr.ask(c, at(13))
	tr.answer(c, at(20), []peer.ID{d}, 0)
	tr.ask(d, at(21))
	tr.answer(e, at(25), nil, 0)
	tr.answer(d, at(30), nil, 1)
	h, ok := tr.hops()
	if !ok || h != 3 {
		t.Fatalf("hops = %d, %v; want 3, true", h, ok)
	}
	if got := tr.depth(e, 10); got != 1 {
		t.Fatalf("depth of a peer asked before it was named = %d, want 1", got)
	}
	if req, ans := tr.messages(); req != 4+1 || ans != 5 {
		t.Fatalf("messages = %d requests, %d answers; want 5, 5", req, ans)
	}
}

func TestTraceWithoutRecordHasNoHops(t *testing.T) {
	tr := &trace{asked: map[peer.ID]time.Time{}, learned: map[peer.ID]learn{}}
	tr.ask("a", time.Now())
	tr.answer("a", time.Now(), []peer.ID{"b"}, 0)
	if _, ok := tr.hops(); ok {
		t.Fatal("hops reported for a lookup that found no record")
	}
}
