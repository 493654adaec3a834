package content

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Garbage collection is mark and sweep, in the manner of Kubo's pin/gc, with
// one difference: Kubo holds the GC lock, which every add takes shared, for
// the whole collection, so that adds stall until it ends (kubo#6114). Here
// the exclusive lock is held only while the pin set is read; adds and pins
// then run alongside the mark and the sweep, protected by a write barrier:
//
//  1. Under the GC lock (so no add or pin is half-way), the barrier is
//     switched on and the pins are listed.
//  2. Mark: every block reachable from those pins is noted, read offline
//     from below the barrier.
//  3. Sweep: every stored block neither marked nor touched since step 1 is
//     deleted.
//
// While the barrier is on, every block written or read through the
// blockstore is noted as touched before the operation reaches the store,
// and the sweep's check-and-delete of one block is atomic with that note
// (one mutex). So a block an add writes, or a pin walks, during the
// collection is either noted before the sweep looks at it (and kept) or
// written after it was deleted (and so stored again). Whatever was touched
// survives this collection; if nothing pins it, the next one takes it.

// gcBarrier is the top layer of the blockstore: it notes every block
// touched while a collection runs.
//
// What it remembers is bounded. A block read and found absent is
// forgotten once the read ends (nothing of it can be swept), so a peer
// asking for blocks the node lacks costs nothing; a block written, or
// read and found, is kept. Past maxTouched blocks the barrier stops
// noting and the sweep stops deleting, the safe fallback: the collection
// ends early, having deleted nothing touched, and says to run it again.
type gcBarrier struct {
	blockstore.GCBlockstore

	mu sync.Mutex
	// touched maps multihash bytes to the reads of the block in flight,
	// or to kept; nil when no GC runs.
	touched map[string]int32
	gen     uint64 // counts collections, so a read that spans two is not mistaken
	full    bool   // past max: the sweep deletes nothing more
	max     int

	// afterMark, if set (by tests), runs between the mark and the sweep,
	// while the barrier is on.
	afterMark func()
}

// kept marks a touched block that the sweep must keep.
const kept = -1

// maxTouched is how many blocks a collection notes before it gives up
// sweeping: about 10 MiB of notes.
const maxTouched = 1 << 17

// noteKept records ks as blocks the sweep must keep, if a collection is
// running.
func (g *gcBarrier) noteKept(ks ...cid.Cid) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.touched == nil || g.full {
		return
	}
	for _, k := range ks {
		g.touched[string(k.Hash())] = kept
	}
	g.checkFull()
}

var noteNothing = func(bool) {}

// noteRead records a read of k starting, if a collection is running; the
// func it returns records whether the read found the block.
func (g *gcBarrier) noteRead(k cid.Cid) func(found bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.touched == nil || g.full {
		return noteNothing
	}
	h, gen := string(k.Hash()), g.gen
	if g.touched[h] == kept {
		return noteNothing
	}
	g.touched[h]++
	g.checkFull()
	return func(found bool) { g.readDone(gen, h, found) }
}

// readDone records the end of a read noted by noteRead.
func (g *gcBarrier) readDone(gen uint64, h string, found bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, ok := g.touched[h]
	switch {
	case g.gen != gen || g.full || !ok || n == kept:
	case found:
		g.touched[h] = kept
	case n <= 1:
		delete(g.touched, h)
	default:
		g.touched[h] = n - 1
	}
}

// checkFull gives up noting once too many blocks are noted.
func (g *gcBarrier) checkFull() {
	if len(g.touched) > g.limit() {
		g.full = true
		g.touched = map[string]int32{}
	}
}

func (g *gcBarrier) limit() int {
	if g.max > 0 {
		return g.max
	}
	return maxTouched
}

// Put notes b, then stores it.
func (g *gcBarrier) Put(ctx context.Context, b blocks.Block) error {
	g.noteKept(b.Cid())
	return g.GCBlockstore.Put(ctx, b)
}

// PutMany notes bs, then stores them.
func (g *gcBarrier) PutMany(ctx context.Context, bs []blocks.Block) error {
	ks := make([]cid.Cid, len(bs))
	for i, b := range bs {
		ks[i] = b.Cid()
	}
	g.noteKept(ks...)
	return g.GCBlockstore.PutMany(ctx, bs)
}

// Get notes k, then reads it: a pin made during a collection walks its
// DAG through Get, and must keep what it walked.
func (g *gcBarrier) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	done := g.noteRead(k)
	b, err := g.GCBlockstore.Get(ctx, k)
	done(err == nil)
	return b, err
}

// Has notes k, then looks it up, for writers that check before writing.
func (g *gcBarrier) Has(ctx context.Context, k cid.Cid) (bool, error) {
	done := g.noteRead(k)
	has, err := g.GCBlockstore.Has(ctx, k)
	done(err == nil && has)
	return has, err
}

// start switches the barrier on.
func (g *gcBarrier) start() {
	g.mu.Lock()
	g.touched, g.full = map[string]int32{}, false
	g.gen++
	g.mu.Unlock()
}

// stop switches the barrier off and forgets what was touched.
func (g *gcBarrier) stop() {
	g.mu.Lock()
	g.touched, g.full = nil, false
	g.mu.Unlock()
}

// errBarrierFull ends a sweep once the barrier gave up noting.
var errBarrierFull = errors.New("more blocks were read or written while it ran than it keeps track of; run it again")

// deleteUnless deletes k from below the barrier unless it is in keep or
// was touched, atomically with respect to the notes.
func (g *gcBarrier) deleteUnless(ctx context.Context, below blockstore.Blockstore, k cid.Cid, keep cidSet) (bool, error) {
	h := string(k.Hash())
	if _, ok := keep[h]; ok {
		return false, nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.full {
		return false, errBarrierFull
	}
	if _, ok := g.touched[h]; ok {
		return false, nil
	}
	switch err := below.DeleteBlock(ctx, k); {
	case ipld.IsNotFound(err):
		return false, nil // gone already
	case err != nil:
		return false, err
	}
	return true, nil
}

// GCEvents receives what a collection does, as it does it; nil funcs
// are not called, and an error from one ends the collection.
type GCEvents struct {
	// Removed is called with each block removed.
	Removed func(cid.Cid) error
	// Skipped is called with each block under a pin that could not be
	// read (missing or damaged): it is kept, but the blocks only it links
	// to are not known, so not kept. Repairing it (repo verify --repair,
	// or adding its content again) brings them back.
	Skipped func(cid.Cid, error) error
}

// GC removes every stored block that no pin reaches, reporting each to ev,
// and returns how many it removed; then it compacts the packs, so that the
// space is free when it returns. Blocks written or read while it runs are
// kept. A block under a pin that cannot be read is skipped and reported;
// no block that a readable pin reaches is ever removed. One collection
// runs at a time; a second call waits for the first.
func (c *Content) GC(ctx context.Context, ev GCEvents) (int, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	c.gcRun.Lock()
	defer c.gcRun.Unlock()

	roots, err := c.startGC(ctx)
	if err != nil {
		return 0, fmt.Errorf("gc: %w", err)
	}
	defer c.barrier.stop()
	keep, err := c.mark(ctx, roots, ev.Skipped)
	if err != nil {
		return 0, fmt.Errorf("gc: mark: %w (nothing was removed)", err)
	}
	if c.barrier.afterMark != nil {
		c.barrier.afterMark()
	}
	n, err := c.sweep(ctx, keep, ev.Removed)
	if err != nil {
		return n, fmt.Errorf("gc: sweep: %w", err)
	}
	c.barrier.stop()
	if p := packsOf(c.ds); p != nil && n > 0 {
		if _, err := p.Compact(ctx); err != nil {
			return n, fmt.Errorf("gc: compact: %w", err)
		}
	}
	return n, nil
}

// gcRoots are the pins read at the start of a collection.
type gcRoots struct {
	recursive, direct []cid.Cid
}

// startGC waits for adds and pins in flight to finish (they hold the pin
// lock), switches the barrier on and lists the pins, then lets adds and
// pins run again. Adds that start while it waits queue behind it (the
// lock is a sync.RWMutex, which lets a waiting writer go first), so a long
// add in flight delays them by the rest of its own time; they never wait
// for the mark or the sweep.
func (c *Content) startGC(ctx context.Context) (gcRoots, error) {
	unlock := c.bstore.GCLock(ctx)
	defer unlock.Unlock(ctx)
	c.barrier.start()
	roots, err := c.pinRoots(ctx)
	if err != nil {
		c.barrier.stop()
	}
	return roots, err
}

// pinRoots lists the recursive pins and, as direct ones, the direct and
// internal pins.
func (c *Content) pinRoots(ctx context.Context) (gcRoots, error) {
	var r gcRoots
	for _, src := range []struct {
		keys func(context.Context, bool) <-chan pin.StreamedPin
		into *[]cid.Cid
	}{
		{c.pins.RecursiveKeys, &r.recursive},
		{c.pins.DirectKeys, &r.direct},
		{c.pins.InternalPins, &r.direct},
	} {
		for sp := range src.keys(ctx, false) {
			if sp.Err != nil {
				return gcRoots{}, fmt.Errorf("list pins: %w", sp.Err)
			}
			*src.into = append(*src.into, sp.Pin.Key)
		}
	}
	return r, nil
}

// cidSet is a set of blocks keyed by multihash, as the blockstore keys
// them (the same bytes under two CIDs are one block).
type cidSet map[string]cid.Cid

// mark returns every block the roots keep, calling skipped for each
// block it could not read.
func (c *Content) mark(ctx context.Context, roots gcRoots, skipped func(cid.Cid, error) error) (cidSet, error) {
	if skipped == nil {
		skipped = func(cid.Cid, error) error { return nil }
	}
	keep, err := c.walk(ctx, roots.recursive, skipped)
	if err != nil {
		return nil, err
	}
	for _, k := range roots.direct {
		keep[string(k.Hash())] = k
	}
	return keep, nil
}

// reachable returns the blocks of the DAGs under roots, roots included,
// read from the local store only; a block missing or damaged fails it.
func (c *Content) reachable(ctx context.Context, roots []cid.Cid) (cidSet, error) {
	return c.walk(ctx, roots, nil)
}

// walk returns the blocks of the DAGs under roots, roots included, read
// from the local store only, each block read once however many paths
// lead to it. A block that is missing or damaged fails the walk, unless
// skip is set: then skip is told, and the walk goes on without its links.
func (c *Content) walk(ctx context.Context, roots []cid.Cid, skip func(cid.Cid, error) error) (cidSet, error) {
	set := cidSet{}
	var mu sync.Mutex
	visit := func(k cid.Cid) bool {
		mu.Lock()
		defer mu.Unlock()
		h := string(k.Hash())
		if _, seen := set[h]; seen {
			return false
		}
		set[h] = k
		return true
	}
	getLinks := c.offlineLinks()
	if skip != nil {
		strict := getLinks
		var skipMu sync.Mutex
		getLinks = func(ctx context.Context, k cid.Cid) ([]*ipld.Link, error) {
			links, err := strict(ctx, k)
			if err == nil || !ipld.IsNotFound(err) || ctx.Err() != nil {
				return links, err
			}
			skipMu.Lock()
			defer skipMu.Unlock()
			return nil, skip(k, err)
		}
	}
	for _, root := range roots {
		if err := merkledag.Walk(ctx, getLinks, root, visit, merkledag.Concurrent()); err != nil {
			return nil, fmt.Errorf("walk pinned %s: %w", root, err)
		}
	}
	return set, nil
}

// offlineLinks lists a block's links from the local store only, below the
// barrier (the collector's own reads must not count as touches). Raw
// blocks have no links, so they are not read at all.
func (c *Content) offlineLinks() merkledag.GetLinks {
	dag := merkledag.NewDAGService(blockservice.New(c.sized, nil))
	return func(ctx context.Context, k cid.Cid) ([]*ipld.Link, error) {
		if k.Type() == cid.Raw {
			return nil, nil
		}
		return ipld.GetLinks(ctx, dag, k)
	}
}

// sweep deletes every stored block not in keep and not touched.
func (c *Content) sweep(ctx context.Context, keep cidSet, removed func(cid.Cid) error) (int, error) {
	keys, err := c.sized.AllKeysChan(ctx)
	if err != nil {
		return 0, fmt.Errorf("list blocks: %w", err)
	}
	n := 0
	defer drain(keys)
	for k := range keys {
		gone, err := c.barrier.deleteUnless(ctx, c.sized, k, keep)
		if errors.Is(err, errBarrierFull) {
			return n, fmt.Errorf("stopped after removing %d blocks: %w", n, err)
		}
		if err != nil {
			return n, fmt.Errorf("delete %s: %w", k, err)
		}
		if !gone {
			continue
		}
		n++
		if removed != nil {
			if err := removed(k); err != nil {
				return n, err
			}
		}
	}
	// AllKeysChan closes its channel early, without saying so, when ctx
	// ends; a cut-short sweep must not look complete.
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, nil
}

// drain empties a key channel whose producer stops at ctx's end.
func drain(keys <-chan cid.Cid) {
	go func() {
		for range keys {
		}
	}()
}

// trackedStore wraps bs in the layers this file and stat.go need: the
// counting store under the GC barrier.
func (c *Content) trackedStore(ctx context.Context, bs blockstore.GCBlockstore) (blockstore.GCBlockstore, error) {
	sized, err := newSizedStore(ctx, c.ds, bs, c.cfg.StorageMax)
	if err != nil {
		return nil, err
	}
	c.sized = sized
	c.barrier = &gcBarrier{GCBlockstore: sized}
	return c.barrier, nil
}

// Pin types, as Kubo names them in pin ls.
const (
	PinRecursive = "recursive"
	PinDirect    = "direct"
	PinIndirect  = "indirect" // reached from a recursive pin, not pinned itself
)

// PinStatus is how one block is pinned; Type is "" when it is not.
type PinStatus struct {
	Cid  cid.Cid
	Type string
}

// ListPins lists the pins of the given types (PinRecursive, PinDirect,
// PinIndirect), in that order. Indirect pins are found by walking the
// recursive pins' DAGs in the local store, so listing them reads every
// non-raw block under a pin.
func (c *Content) ListPins(ctx context.Context, types ...string) ([]PinStatus, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	roots, err := c.pinRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("list pins: %w", err)
	}
	var out []PinStatus
	if slices.Contains(types, PinRecursive) {
		out = appendStatus(out, roots.recursive, PinRecursive)
	}
	if slices.Contains(types, PinDirect) {
		out = appendStatus(out, roots.direct, PinDirect)
	}
	if slices.Contains(types, PinIndirect) {
		under, err := c.reachable(ctx, roots.recursive)
		if err != nil {
			return nil, fmt.Errorf("list pins: %w", err)
		}
		for _, k := range slices.Concat(roots.recursive, roots.direct) {
			delete(under, string(k.Hash()))
		}
		for _, k := range under {
			out = append(out, PinStatus{Cid: k, Type: PinIndirect})
		}
	}
	return out, nil
}

// CheckPins says how each of ks is pinned: recursively, directly, or
// indirectly (under a recursive pin); Type "" for a block no pin keeps.
func (c *Content) CheckPins(ctx context.Context, ks ...cid.Cid) ([]PinStatus, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	roots, err := c.pinRoots(ctx)
	if err != nil {
		return nil, fmt.Errorf("check pins: %w", err)
	}
	var under cidSet // walked only if some key needs it
	out := make([]PinStatus, len(ks))
	for i, k := range ks {
		out[i].Cid = k
		switch {
		case containsHash(roots.recursive, k):
			out[i].Type = PinRecursive
		case containsHash(roots.direct, k):
			out[i].Type = PinDirect
		default:
			if under == nil {
				if under, err = c.reachable(ctx, roots.recursive); err != nil {
					return nil, fmt.Errorf("check pins: %w", err)
				}
			}
			if _, ok := under[string(k.Hash())]; ok {
				out[i].Type = PinIndirect
			}
		}
	}
	return out, nil
}

func appendStatus(out []PinStatus, ks []cid.Cid, typ string) []PinStatus {
	for _, k := range ks {
		out = append(out, PinStatus{Cid: k, Type: typ})
	}
	return out
}

// containsHash reports whether ks holds k's block, under any CID version.
func containsHash(ks []cid.Cid, k cid.Cid) bool {
	return slices.ContainsFunc(ks, func(x cid.Cid) bool { return string(x.Hash()) == string(k.Hash()) })
}
