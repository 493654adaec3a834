package main

import (
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// tap counts the DHT messages one peer sends, and records the GET_PROVIDERS
// exchanges of the lookups that peer is running (see trace).
type tap struct {
	announced *announceCounts // shared by every peer of the run

	sentN, readN atomic.Int64
	byType       [pb.Message_PING + 1]atomic.Int64

	mu     sync.Mutex
	traces map[string]*trace // by multihash, while a lookup runs
}

func newTap(a *announceCounts) *tap { return &tap{announced: a, traces: map[string]*trace{}} }

// track starts recording the lookup of key; untrack ends it.
func (t *tap) track(key []byte) *trace {
	tr := &trace{asked: map[peer.ID]time.Time{}, learned: map[peer.ID]learn{}}
	t.mu.Lock()
	t.traces[string(key)] = tr
	t.mu.Unlock()
	return tr
}

func (t *tap) untrack(key []byte) {
	t.mu.Lock()
	delete(t.traces, string(key))
	t.mu.Unlock()
}

func (t *tap) trace(key []byte) *trace {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.traces) == 0 {
		return nil
	}
	return t.traces[string(key)]
}

// sent sees one message this peer wrote to p.
func (t *tap) sent(p peer.ID, m []byte) {
	t.sentN.Add(1)
	typ, key := kadHeader(m)
	if typ >= 0 && int(typ) < len(t.byType) {
		t.byType[typ].Add(1)
	}
	switch pb.Message_MessageType(typ) {
	case pb.Message_ADD_PROVIDER:
		t.announced.add(key)
	case pb.Message_GET_PROVIDERS:
		if tr := t.trace(key); tr != nil {
			tr.ask(p, time.Now())
		}
	}
}

// received sees one answer this peer read from p.
func (t *tap) received(p peer.ID, m []byte) {
	t.readN.Add(1)
	typ, key := kadHeader(m)
	if pb.Message_MessageType(typ) != pb.Message_GET_PROVIDERS {
		return
	}
	tr := t.trace(key)
	if tr == nil {
		return
	}
	var msg pb.Message
	if err := proto.Unmarshal(m, &msg); err != nil {
		return
	}
	closer := make([]peer.ID, 0, len(msg.CloserPeers))
	for _, c := range msg.CloserPeers {
		if id, err := peer.IDFromBytes(c.Id); err == nil {
			closer = append(closer, id)
		}
	}
	tr.answer(p, time.Now(), closer, len(msg.ProviderPeers))
}

// sentByType is how many messages of type typ this peer has sent.
func (t *tap) sentByType(typ pb.Message_MessageType) int64 { return t.byType[typ].Load() }

// announceCounts counts ADD_PROVIDER messages per key, for the keys the
// run added: how many peers were sent each provider record.
type announceCounts struct{ m sync.Map } // string(multihash) → *atomic.Int64

func (a *announceCounts) watch(key []byte) { a.m.Store(string(key), new(atomic.Int64)) }

func (a *announceCounts) add(key []byte) {
	if v, ok := a.m.Load(string(key)); ok {
		v.(*atomic.Int64).Add(1)
	}
}

func (a *announceCounts) count(key []byte) int64 {
	if v, ok := a.m.Load(string(key)); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}
