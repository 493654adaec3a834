package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	pin "github.com/ipfs/boxo/pinning/pinner"

	"github.com/cairnnet/cairn/content/packstore"
	"github.com/ipfs/go-cid"
)

// powerCutRounds is how many cuts the test makes, each at a random
// moment, with a random share of the unsynced writes surviving.
const powerCutRounds = 8

// The power-cut double: the repo (pebble and the packs) runs on pebble's
// crashable memory file system while files are added and pinned, unpinned
// and collected (the collection compacts the packs) on several goroutines;
// at a random moment the file system is cloned as a power cut would leave
// it — what was synced, and a random share of what was not — and the
// clone is opened as the repo after the cut. Every pin whose add had
// returned before the cut must be there with all its blocks, and no block
// the repo lists may be damaged. (Before, the packs' index could be made
// durable ahead of the bytes it names, and a pin ahead of a block written
// while a flush ran.)
func TestPowerCutKeepsEveryPinThatReturned(t *testing.T) {
	for round := range powerCutRounds {
		t.Run(fmt.Sprint(round), func(t *testing.T) { powerCut(t, uint64(round)) })
	}
}

// cutPacks makes the packs small, so that buffer writes, new packs and
// compactions happen many times in a round.
var cutPacks = packstore.Options{BufferSize: 16 << 10, MaxPackSize: 256 << 10, CompactAfter: 64 << 10}

type pinnedFile struct {
	root cid.Cid
	data []byte
}

func powerCut(t *testing.T, seed uint64) {
	ctx := testContext(t)
	rng := rand.New(rand.NewPCG(seed, 99))
	fs := vfs.NewCrashableMem()
	ds, err := openDatastore("/repo", true, fs, cutPacks)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatal(err)
	}
	w := &cutWorkload{c: c, progress: make(chan struct{}, 1024)}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { w.add(ctx, seed*10+uint64(i)) })
	}
	wg.Go(func() { w.collect(ctx, seed) })

	// Cut after a random number of operations have returned.
	for range 3 + rng.IntN(25) {
		select {
		case <-w.progress:
		case <-ctx.Done():
			t.Fatal("the workload stalled")
		}
	}
	w.mu.Lock()
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.IntN(101), RNG: rand.New(rand.NewPCG(seed, 7))})
	w.cut = true
	want := append([]pinnedFile(nil), w.pinned...)
	w.mu.Unlock()
	// Each worker finishes the operation in hand: an import cut short
	// could leave a write behind it, racing the close.
	w.stop.Store(true)
	wg.Wait()
	if err := errors.Join(w.errs...); err != nil {
		t.Fatal(err)
	}
	c.Close()
	ds.Close()
	checkAfterCut(t, crashed, want)
}

// cutWorkload adds, pins, unpins and collects until it is stopped,
// recording the pins whose add returned before the cut.
type cutWorkload struct {
	c        *Content
	progress chan struct{}
	mu       sync.Mutex
	cut      bool
	stop     atomic.Bool
	pinned   []pinnedFile
	errs     []error
}

func (w *cutWorkload) fail(err error) {
	w.mu.Lock()
	w.errs = append(w.errs, err)
	w.mu.Unlock()
}

func (w *cutWorkload) done() {
	select {
	case w.progress <- struct{}{}:
	default:
	}
}

func (w *cutWorkload) add(ctx context.Context, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := 0; !w.stop.Load(); i++ {
		data := randomBytes(1+rng.IntN(120<<10), seed*1000+uint64(i))
		pin := rng.IntN(4) != 0
		res, err := w.c.Import(ctx, bytes.NewReader(data), ImportOptions{CIDVersion: -1, Pin: pin})
		if err != nil {
			w.fail(fmt.Errorf("import: %w", err))
			return
		}
		w.mu.Lock()
		if pin && !w.cut {
			w.pinned = append(w.pinned, pinnedFile{res.Cid, data})
		}
		w.mu.Unlock()
		w.done()
	}
}

// collect unpins a pinned file now and then (forgetting it first, so a
// cut during the unpin does not count it) and collects garbage.
func (w *cutWorkload) collect(ctx context.Context, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	for !w.stop.Load() {
		w.mu.Lock()
		var drop cid.Cid
		if n := len(w.pinned); n > 2 && rng.IntN(2) == 0 {
			i := rng.IntN(n)
			drop = w.pinned[i].root
			w.pinned = append(w.pinned[:i], w.pinned[i+1:]...)
		}
		w.mu.Unlock()
		if drop.Defined() {
			if err := w.c.Unpin(ctx, drop); err != nil && !errors.Is(err, pin.ErrNotPinned) {
				w.fail(fmt.Errorf("unpin: %w", err))
				return
			}
		}
		if _, err := w.c.GC(ctx, GCEvents{}); err != nil {
			w.fail(fmt.Errorf("gc: %w", err))
			return
		}
		w.done()
	}
}

// checkAfterCut opens the repo as the cut left it and checks every pin
// that had returned.
func checkAfterCut(t *testing.T, fs vfs.FS, want []pinnedFile) {
	t.Helper()
	ctx := testContext(t)
	ds, err := openDatastore("/repo", true, fs, cutPacks)
	if err != nil {
		t.Fatalf("reopen after the cut: %v", err)
	}
	defer ds.Close()
	c, err := New(ctx, nil, nil, ds, smallChunks())
	if err != nil {
		t.Fatalf("reopen after the cut: %v", err)
	}
	defer c.Close()
	for _, f := range want {
		st, err := c.CheckPins(ctx, f.root)
		if err != nil || st[0].Type != PinRecursive {
			all, _ := c.Pins(ctx)
			t.Logf("pins after the cut: %d of %d expected", len(all), len(want))
			t.Fatalf("pin %s, returned before the cut, is %q after it (%v)", f.root, st[0].Type, err)
		}
		short, cancel := context.WithTimeout(ctx, 5*time.Second)
		nd, err := c.Node(short, f.root)
		if err != nil {
			cancel()
			t.Fatalf("pin %s after the cut: %v", f.root, err)
		}
		got := readNode(t, nd)
		cancel()
		if !bytes.Equal(got, f.data) {
			t.Fatalf("pin %s reads back wrong after the cut", f.root)
		}
	}
	res, err := c.Verify(ctx, false, nil)
	if err != nil || len(res.Damaged) != 0 {
		t.Fatalf("after the cut, Verify: %d of %d blocks damaged, %v", len(res.Damaged), res.Checked, err)
	}
	t.Logf("%d pins checked after the cut, %d blocks verified", len(want), res.Checked)
}
