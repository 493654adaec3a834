package content

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// localKeys lists the multihashes of every block stored.
func localKeys(t *testing.T, c *Content) map[string]bool {
	t.Helper()
	keys, err := c.sized.AllKeysChan(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for k := range keys {
		out[string(k.Hash())] = true
	}
	return out
}

// dagHashes lists the multihashes of every block under root.
func dagHashes(t *testing.T, c *Content, root cid.Cid) []string {
	t.Helper()
	set, err := c.reachable(testContext(t), []cid.Cid{root})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	return out
}

// wantReadable checks that root reads back as data from the local store.
func wantReadable(t *testing.T, c *Content, root cid.Cid, data []byte) {
	t.Helper()
	nd, err := c.Node(testContext(t), root)
	if err != nil {
		t.Fatalf("open %s: %v", root, err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, data) {
		t.Fatalf("%s reads back %d bytes that differ from the %d added", root, len(got), len(data))
	}
}

func gc(t *testing.T, c *Content) map[string]bool {
	t.Helper()
	removed := map[string]bool{}
	if _, err := c.GC(testContext(t), GCEvents{Removed: func(k cid.Cid) error {
		removed[string(k.Hash())] = true
		return nil
	}}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	return removed
}

func smallChunks() Config {
	cfg := DefaultConfig()
	cfg.ChunkSize = 4 << 10
	return cfg
}

func TestGCRemovesOnlyUnpinned(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	pinnedData, looseData := randomBytes(100<<10, 1), randomBytes(50<<10, 2)
	pinned := importBytes(t, c, pinnedData, ImportOptions{CIDVersion: -1, Pin: true})
	loose := importBytes(t, c, looseData, ImportOptions{CIDVersion: -1})
	direct, err := c.PutBlock(ctx, []byte("direct"), "raw", "", -1, true)
	if err != nil {
		t.Fatal(err)
	}
	stray, err := c.PutBlock(ctx, []byte("stray"), "raw", "", -1, false)
	if err != nil {
		t.Fatal(err)
	}
	looseKeys := dagHashes(t, c, loose.Cid)
	before, _ := c.RepoStat(ctx)

	removed := gc(t, c)

	want := append(looseKeys, string(stray.Hash()))
	for _, h := range want {
		if !removed[h] {
			t.Errorf("unpinned block %x not removed", h)
		}
	}
	if len(removed) != len(want) {
		t.Errorf("removed %d blocks, want exactly the %d unpinned ones", len(removed), len(want))
	}
	wantReadable(t, c, pinned.Cid, pinnedData)
	if _, err := c.GetBlock(ctx, direct); err != nil {
		t.Errorf("direct pin %s lost: %v", direct, err)
	}
	if _, err := c.GetBlock(ctx, loose.Cid); !ipld.IsNotFound(err) {
		t.Errorf("unpinned root after GC: err = %v, want not found", err)
	}
	after, _ := c.RepoStat(ctx)
	if after.NumObjects != before.NumObjects-uint64(len(want)) {
		t.Errorf("NumObjects %d → %d, want %d removed", before.NumObjects, after.NumObjects, len(want))
	}
	if got := gc(t, c); len(got) != 0 {
		t.Errorf("second GC removed %d blocks, want none", len(got))
	}
}

// An add and a pin made while a collection is between its mark and its
// sweep neither wait for it nor lose a block to it.
func TestGCKeepsWhatIsAddedOrPinnedDuringIt(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	laterPinnedData := randomBytes(40<<10, 3)
	laterPinned := importBytes(t, c, laterPinnedData, ImportOptions{CIDVersion: -1})

	marked := make(chan struct{})
	resume := make(chan struct{})
	c.barrier.afterMark = func() {
		close(marked)
		<-resume
	}
	gcDone := make(chan map[string]bool)
	go func() {
		removed := map[string]bool{}
		_, err := c.GC(ctx, GCEvents{Removed: func(k cid.Cid) error { removed[string(k.Hash())] = true; return nil }})
		if err != nil {
			t.Errorf("GC: %v", err)
		}
		gcDone <- removed
	}()
	<-marked
	// The collection is paused with its barrier on: these must complete
	// now, not after it.
	addedData, looseData := randomBytes(60<<10, 4), randomBytes(30<<10, 5)
	added := importBytes(t, c, addedData, ImportOptions{CIDVersion: -1, Pin: true})
	loose := importBytes(t, c, looseData, ImportOptions{CIDVersion: -1})
	if err := c.Pin(ctx, laterPinned.Cid, true); err != nil {
		t.Fatalf("Pin during GC: %v", err)
	}
	close(resume)
	removed := <-gcDone
	c.barrier.afterMark = nil

	if len(removed) != 0 {
		t.Errorf("GC removed %d blocks touched during it", len(removed))
	}
	wantReadable(t, c, added.Cid, addedData)
	wantReadable(t, c, laterPinned.Cid, laterPinnedData)
	wantReadable(t, c, loose.Cid, looseData)

	// The next collection takes what is still unpinned, and only that.
	looseKeys := dagHashes(t, c, loose.Cid)
	removed = gc(t, c)
	for _, h := range looseKeys {
		if !removed[h] {
			t.Errorf("second GC kept block %x of the unpinned add", h)
		}
	}
	if len(removed) != len(looseKeys) {
		t.Errorf("second GC removed %d blocks, want the %d of the unpinned add", len(removed), len(looseKeys))
	}
	if _, err := c.GetBlock(ctx, loose.Cid); !ipld.IsNotFound(err) {
		t.Errorf("unpinned add after second GC: err = %v, want not found", err)
	}
	wantReadable(t, c, laterPinned.Cid, laterPinnedData)
}

// Adds running while collections run back to back: every pinned add stays
// whole, every unpinned one is gone after a final collection.
func TestGCUnderConcurrentAdds(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	const adders, perAdder = 4, 8

	type added struct {
		root cid.Cid
		data []byte
		pin  bool
	}
	var mu sync.Mutex
	var all []added
	var wg sync.WaitGroup
	for a := range adders {
		wg.Go(func() {
			for i := range perAdder {
				data := randomBytes(32<<10+a*1000+i, uint64(10+a*perAdder+i))
				pinIt := i%2 == 0
				res, err := c.Import(ctx, bytes.NewReader(data), ImportOptions{CIDVersion: -1, Pin: pinIt})
				if err != nil {
					t.Errorf("Import: %v", err)
					return
				}
				mu.Lock()
				all = append(all, added{res.Cid, data, pinIt})
				mu.Unlock()
			}
		})
	}
	addsDone := make(chan struct{})
	go func() { wg.Wait(); close(addsDone) }()
	runs := 0
	for collecting := true; collecting; {
		select {
		case <-addsDone:
			collecting = false
		default:
		}
		if _, err := c.GC(ctx, GCEvents{}); err != nil {
			t.Fatalf("GC during adds: %v", err)
		}
		runs++
	}
	// How many overlapped depends on the machine; the deterministic
	// overlap is TestGCKeepsWhatIsAddedOrPinnedDuringIt's.
	t.Logf("%d collections ran alongside %d adds", runs, adders*perAdder)
	for _, a := range all {
		if a.pin {
			wantReadable(t, c, a.root, a.data)
		}
	}
	gc(t, c)
	for _, a := range all {
		if a.pin {
			wantReadable(t, c, a.root, a.data)
			continue
		}
		if _, err := c.GetBlock(ctx, a.root); !ipld.IsNotFound(err) {
			t.Errorf("unpinned %s after the final GC: err = %v, want not found", a.root, err)
		}
	}
	st, _ := c.RepoStat(ctx)
	if keys := localKeys(t, c); uint64(len(keys)) != st.NumObjects {
		t.Errorf("RepoStat NumObjects %d, but %d blocks are stored", st.NumObjects, len(keys))
	}
}

// A pinned DAG with a block missing does not stop the collection: the
// missing block is reported, every block a readable path of the pin
// reaches is kept, and what no pin keeps is removed. (Before, one
// unreadable pinned node stopped every GC.)
func TestGCSkipsAMissingPinnedBlockAndSaysSo(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	pinned := importBytes(t, c, randomBytes(20<<10, 6), ImportOptions{CIDVersion: -1, Pin: true, RawLeaves: new(false)})
	stray, _ := c.PutBlock(ctx, []byte("stray"), "raw", "", -1, false)
	// Lose one dag-pb leaf of the pinned file.
	nd, err := c.dag.Get(ctx, pinned.Cid)
	if err != nil {
		t.Fatal(err)
	}
	lost := nd.Links()[0].Cid
	if err := c.sized.DeleteBlock(ctx, lost); err != nil {
		t.Fatal(err)
	}
	var skipped []cid.Cid
	removed := map[string]bool{}
	_, err = c.GC(ctx, GCEvents{
		Removed: func(k cid.Cid) error { removed[string(k.Hash())] = true; return nil },
		Skipped: func(k cid.Cid, err error) error { skipped = append(skipped, k); return nil },
	})
	if err != nil {
		t.Fatalf("GC with a broken pin: %v", err)
	}
	if len(skipped) != 1 || skipped[0].Hash().HexString() != lost.Hash().HexString() {
		t.Fatalf("GC skipped %v, want the lost leaf %s", skipped, lost)
	}
	if !removed[string(stray.Hash())] {
		t.Fatal("the stray block was not removed")
	}
	for _, l := range nd.Links()[1:] {
		if _, err := c.GetBlock(ctx, l.Cid); err != nil {
			t.Fatalf("a readable leaf of the pin is gone: %v", err)
		}
	}
}

func TestListAndCheckPins(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	file := importBytes(t, c, randomBytes(20<<10, 7), ImportOptions{CIDVersion: -1, Pin: true})
	direct, _ := c.PutBlock(ctx, []byte("direct"), "raw", "", -1, true)
	loose, _ := c.PutBlock(ctx, []byte("loose"), "raw", "", -1, false)
	children := len(dagHashes(t, c, file.Cid)) - 1

	all, err := c.ListPins(ctx, PinRecursive, PinDirect, PinIndirect)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, p := range all {
		count[p.Type]++
	}
	if count[PinRecursive] != 1 || count[PinDirect] != 1 || count[PinIndirect] != children {
		t.Fatalf("ListPins counts %v, want 1 recursive, 1 direct, %d indirect", count, children)
	}
	nd, _ := c.dag.Get(ctx, file.Cid)
	got, err := c.CheckPins(ctx, file.Cid, direct, nd.Links()[0].Cid, loose)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{PinRecursive, PinDirect, PinIndirect, ""}
	for i, p := range got {
		if p.Type != want[i] {
			t.Errorf("CheckPins[%d] (%s) = %q, want %q", i, p.Cid, p.Type, want[i])
		}
	}
}

// What the GC barrier remembers is bounded: reads of absent blocks during
// a collection are forgotten as they end, and past the cap the barrier
// stops noting and the sweep stops deleting, so nothing touched is lost
// and the collection says to run again. (Before, every CID requested
// during a collection, present or not, was kept until it ended.)
func TestGCBarrierIsBounded(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	c.barrier.max = 50
	loose := importBytes(t, c, randomBytes(400<<10, 30), ImportOptions{CIDVersion: -1})
	present := dagHashes(t, c, loose.Cid)
	if len(present) <= c.barrier.max {
		t.Fatalf("%d blocks: the test needs more than the cap", len(present))
	}
	var absentNotes, fullNotes int
	c.barrier.afterMark = func() {
		for i := range 1000 {
			k, _ := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: 0x12, MhLength: -1}.Sum([]byte{byte(i), byte(i >> 8)})
			_, _ = c.bstore.Has(ctx, k)
			_, _ = c.bstore.Get(ctx, k)
		}
		absentNotes = len(c.barrier.touched)
		for _, h := range present {
			if _, err := c.bstore.Get(ctx, cid.NewCidV1(cid.Raw, []byte(h))); err != nil {
				t.Errorf("read during GC: %v", err)
			}
		}
		fullNotes = len(c.barrier.touched)
	}
	removed := 0
	_, err := c.GC(ctx, GCEvents{Removed: func(cid.Cid) error { removed++; return nil }})
	if absentNotes != 0 {
		t.Fatalf("the barrier holds %d notes after reads of 1000 absent blocks, want 0", absentNotes)
	}
	if fullNotes > c.barrier.max {
		t.Fatalf("the barrier holds %d notes, past its cap of %d", fullNotes, c.barrier.max)
	}
	if err == nil || !strings.Contains(err.Error(), "run it again") {
		t.Fatalf("GC past the cap: %v", err)
	}
	if removed != 0 {
		t.Fatalf("GC past the cap removed %d blocks, read during it", removed)
	}
	c.barrier.afterMark = nil
	if n, err := c.GC(ctx, GCEvents{}); err != nil || n != len(present) {
		t.Fatalf("the next GC removed %d of %d loose blocks: %v", n, len(present), err)
	}
}

// A pinned DAG whose nodes share children (each of 50 levels links twice
// to the one below: 2^50 paths, 51 blocks) is marked in linear time, each
// block read once, and a collection whose context ends stops at once.
func TestGCMarkIsLinearInALatticeAndStopsOnCancel(t *testing.T) {
	c := newOffline(t, smallChunks())
	ctx := testContext(t)
	below := merkledag.NewRawNode([]byte("floor"))
	if err := c.dag.Add(ctx, below); err != nil {
		t.Fatal(err)
	}
	var top ipld.Node = below
	for range 50 { // past 56, dag-pb's cumulative sizes overflow
		nd := merkledag.NodeWithData(nil)
		for _, name := range []string{"a", "b"} {
			if err := nd.AddNodeLink(name, top); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.dag.Add(ctx, nd); err != nil {
			t.Fatal(err)
		}
		top = nd
	}
	if err := c.pins.PinWithMode(ctx, top.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	keep, err := c.mark(ctx, gcRoots{recursive: []cid.Cid{top.Cid()}}, nil)
	if err != nil || len(keep) != 51 {
		t.Fatalf("mark of the lattice: %d blocks, %v; want 51", len(keep), err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.GC(cancelled, GCEvents{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("GC with its context ended: %v", err)
	}
}
