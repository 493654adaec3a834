package replication

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	mh "github.com/multiformats/go-multihash"
)

// dag is a two-level DAG: a root that links to leaves, whose bytes a
// fake store copies when it "fetches".
type dag struct {
	root   cid.Cid
	blocks map[cid.Cid][]byte
	links  map[cid.Cid][]cid.Cid
}

func newDAG(t testing.TB, leaves int) *dag {
	d := &dag{blocks: make(map[cid.Cid][]byte), links: make(map[cid.Cid][]cid.Cid)}
	var rootData []byte
	var links []cid.Cid
	for range leaves {
		data := make([]byte, 1024)
		rand.Read(data)
		c := sum(t, cid.Raw, data)
		d.blocks[c] = data
		d.links[c] = nil
		links = append(links, c)
		rootData = append(rootData, c.Bytes()...)
	}
	d.root = sum(t, cid.DagCBOR, rootData)
	d.blocks[d.root] = rootData
	d.links[d.root] = links
	return d
}

func sum(t testing.TB, codec uint64, data []byte) cid.Cid {
	h, err := mh.Sum(data, mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(codec, h)
}

func (d *dag) size() uint64 {
	n := 0
	for _, b := range d.blocks {
		n += len(b)
	}
	return uint64(n)
}

// fakeStore is a content layer in memory: Hold copies a DAG's blocks in
// at once; a lying store answers for blocks it does not have.
type fakeStore struct {
	dags map[cid.Cid]*dag

	mu     sync.Mutex
	have   map[cid.Cid][]byte
	pinned map[cid.Cid]bool
	holds  int
	lie    bool
	free   uint64
}

func newFakeStore(dags ...*dag) *fakeStore {
	s := &fakeStore{dags: make(map[cid.Cid]*dag), have: make(map[cid.Cid][]byte), pinned: make(map[cid.Cid]bool), free: math.MaxUint64}
	for _, d := range dags {
		s.dags[d.root] = d
	}
	return s
}

// add stores d as its user would: the origin's own copy.
func (s *fakeStore) add(d *dag) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, b := range d.blocks {
		s.have[c] = b
	}
}

// forget deletes every block, as a collection after losing the pins would.
func (s *fakeStore) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.have)
}

func (s *fakeStore) Hold(ctx context.Context, root cid.Cid) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds++
	d := s.dags[root]
	if d == nil {
		return fmt.Errorf("%s: %w", root, ipld.ErrNotFound{Cid: root})
	}
	for c, b := range d.blocks {
		s.have[c] = b
	}
	s.pinned[root] = true
	return nil
}

func (s *fakeStore) Release(ctx context.Context, root cid.Cid) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pinned, root)
	return nil
}

func (s *fakeStore) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.have[c]; ok {
		return b, nil
	}
	if s.lie {
		return []byte("surely"), nil
	}
	return nil, ipld.ErrNotFound{Cid: c}
}

func (s *fakeStore) Links(ctx context.Context, c cid.Cid) ([]cid.Cid, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.have[c]; !ok {
		return nil, ipld.ErrNotFound{Cid: c}
	}
	for _, d := range s.dags {
		if l, ok := d.links[c]; ok {
			return l, nil
		}
	}
	return nil, nil
}

func (s *fakeStore) Size(ctx context.Context, root cid.Cid) (uint64, error) {
	return s.dags[root].size(), nil
}

func (s *fakeStore) Free(context.Context) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.free, nil
}

func (s *fakeStore) isPinned(root cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pinned[root]
}

func (s *fakeStore) holdCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.holds
}

// swarm is n peers on a mocknet, each with a service over a fake store
// and a datastore that outlives the service (a restart keeps it).
type swarm struct {
	t     *testing.T
	mn    mocknet.Mocknet
	hosts []host.Host
	store []*fakeStore
	ds    []datastore.Batching
	srv   []*Service
	cfg   Config
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Private = true
	cfg.CheckInterval = 50 * time.Millisecond
	cfg.MaxBackoff = 200 * time.Millisecond
	cfg.RequestTimeout = 2 * time.Second
	cfg.HoldTimeout = 5 * time.Second
	cfg.RequestRate = 1000
	return cfg
}

func newSwarm(t *testing.T, n int, cfg Config, dags ...*dag) *swarm {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	sw := &swarm{t: t, mn: mn, cfg: cfg}
	for range n {
		h, err := mn.GenPeer()
		if err != nil {
			t.Fatal(err)
		}
		sw.hosts = append(sw.hosts, h)
		sw.store = append(sw.store, newFakeStore(dags...))
		sw.ds = append(sw.ds, dssync.MutexWrap(datastore.NewMapDatastore()))
		sw.srv = append(sw.srv, nil)
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		sw.start(i)
	}
	return sw
}

// start runs peer i's service; its candidates are the peers it is
// connected to.
func (sw *swarm) start(i int) {
	h := sw.hosts[i]
	srv, err := New(h, sw.store[i], sw.ds[i], sw.cfg, func() []peer.ID { return h.Network().Peers() })
	if err != nil {
		sw.t.Fatal(err)
	}
	sw.srv[i] = srv
	sw.t.Cleanup(func() { srv.Close() })
}

// kill stops peer i's service and cuts it off, as if it died.
func (sw *swarm) kill(i int) {
	sw.srv[i].Close()
	sw.srv[i] = nil
	for j, h := range sw.hosts {
		if j != i {
			sw.mn.UnlinkPeers(sw.hosts[i].ID(), h.ID())
			sw.mn.DisconnectPeers(sw.hosts[i].ID(), h.ID())
		}
	}
}

// revive restarts peer i on its old datastore and store, reconnected.
func (sw *swarm) revive(i int) {
	for j, h := range sw.hosts {
		if j == i {
			continue
		}
		if _, err := sw.mn.LinkPeers(sw.hosts[i].ID(), h.ID()); err != nil {
			sw.t.Fatal(err)
		}
		if _, err := sw.mn.ConnectPeers(sw.hosts[i].ID(), h.ID()); err != nil {
			sw.t.Fatal(err)
		}
	}
	sw.start(i)
}

// holders are the running peers that keep root: a record, and the blocks
// pinned (the origin's by its user).
func (sw *swarm) holders(root cid.Cid, origin int) []int {
	var out []int
	for i, srv := range sw.srv {
		if srv == nil {
			continue
		}
		if _, err := srv.Status(root); err == nil && (i == origin || sw.store[i].isPinned(root)) {
			out = append(out, i)
		}
	}
	return out
}

func (sw *swarm) waitHolders(root cid.Cid, origin, want int, d time.Duration) []int {
	sw.t.Helper()
	var got []int
	waitFor(sw.t, fmt.Sprintf("%d holders", want), d, func() bool {
		got = sw.holders(root, origin)
		return len(got) == want
	})
	return got
}

// waitFor polls cond until it holds or d passes: the repair loop runs on
// timers, with no event to wait on.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s", d, what)
		case <-tick.C:
		}
	}
}
