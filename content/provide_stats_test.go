package content

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ipfs/boxo/provider"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	pebbleds "github.com/ipfs/go-ds-pebble"
	"github.com/libp2p/go-libp2p/core/peer"
)

// gatedRouter counts provides, and can hold the reprovide half-way: once
// armed, the provide that brings the count of watched keys to holdAt
// signals held and waits for release.
type gatedRouter struct {
	mu      sync.Mutex
	seen    map[string]int // provides per multihash
	watched map[string]bool
	got     int // provides of watched keys since armed
	holdAt  int
	all     chan struct{} // closed when every watched key was provided once
	held    chan struct{}
	release chan struct{}
}

func newGatedRouter() *gatedRouter {
	return &gatedRouter{seen: map[string]int{}, all: make(chan struct{})}
}

// watch makes keys the set whose provides are counted from now on, and
// arms the hold when holdAt > 0.
func (g *gatedRouter) watch(keys map[string]bool, holdAt int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.watched, g.got, g.holdAt = keys, 0, holdAt
	g.all = make(chan struct{})
	g.held, g.release = make(chan struct{}), make(chan struct{})
}

func (g *gatedRouter) Provide(ctx context.Context, k cid.Cid, _ bool) error {
	g.mu.Lock()
	key := string(k.Hash())
	g.seen[key]++
	var hold chan struct{}
	if g.watched[key] {
		g.got++
		if g.got == len(g.watched) {
			close(g.all)
		}
		if g.got == g.holdAt {
			close(g.held)
			hold = g.release
		}
	}
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (g *gatedRouter) FindProvidersAsync(context.Context, cid.Cid, int) <-chan peer.AddrInfo {
	ch := make(chan peer.AddrInfo)
	close(ch)
	return ch
}

// newMemPebble is the node's real datastore, pebble, on an in-memory file
// system. NewMemoryDatastore would not do here: a map datastore answers
// every prefix query by scanning all keys, which makes each new pin cost
// O(pins) and pinning 10,000 roots take minutes.
func newMemPebble(t *testing.T) datastore.Batching {
	t.Helper()
	ds, err := pebbleds.NewDatastore("", pebbleds.WithPebbleOpts(&pebble.Options{FS: vfs.NewMem()}))
	if err != nil {
		t.Fatalf("in-memory pebble: %v", err)
	}
	// Registered before newTestContent's, so it runs after Content closed.
	t.Cleanup(func() {
		if err := ds.Close(); err != nil {
			t.Errorf("close pebble: %v", err)
		}
	})
	return ds
}

// waitFor waits for ch to close, or fails the test naming what.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("%s: not within %s", what, testTimeout)
	}
}

// TestReprovideManyRootsDoesNotStall pins 10,000 roots, holds a reprovide
// of them half-way inside the router, and checks that the node still reads,
// imports, pins and reports meanwhile; then that the reprovide announces
// every root and the stats say so.
func TestReprovideManyRootsDoesNotStall(t *testing.T) {
	const roots = 10_000
	router := newGatedRouter()
	cfg := DefaultConfig() // roots strategy, every 22 h
	ds := newMemPebble(t)
	ctx := testContext(t)
	// Tell boxo's reprovider it has just run, so that its periodic run
	// (otherwise a minute after start) cannot race the one this test
	// starts, however slowly a loaded machine pins 10,000 roots.
	lastRun := provider.DefaultKeyPrefix.ChildString("reprovide/lastreprovide")
	if err := ds.Put(ctx, lastRun, []byte(strconv.FormatInt(time.Now().UnixNano(), 10))); err != nil {
		t.Fatal(err)
	}
	c := newTestContent(t, newHost(t), router, ds, cfg)

	// Watch first, so that the announcements of the new pins are counted
	// and the reprovide below does not race them.
	keys := make(map[string]bool, roots)
	cids := make([]cid.Cid, 0, roots)
	for i := range roots {
		data := fmt.Appendf(nil, "root %d", i)
		k, err := c.blockCID(data, "raw", "", -1)
		if err != nil {
			t.Fatal(err)
		}
		keys[string(k.Hash())] = true
		cids = append(cids, k)
	}
	router.watch(keys, 0)
	for i := range roots {
		if _, err := c.PutBlock(ctx, fmt.Appendf(nil, "root %d", i), "raw", "", -1, true); err != nil {
			t.Fatalf("pin root %d: %v", i, err)
		}
	}
	waitFor(t, router.all, "first announcement of every root")

	router.watch(keys, roots/2)
	reprovided := make(chan error, 1)
	start := time.Now()
	go func() { reprovided <- c.Reprovide(ctx) }()
	waitFor(t, router.held, "reprovide reaching half-way")

	// The reprovide is now stuck in the router. Everything else answers.
	quick, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.GetBlock(quick, cids[roots-1]); err != nil {
		t.Fatalf("GetBlock during reprovide: %v", err)
	}
	added, err := c.Import(quick, strings.NewReader("added during a reprovide"), ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatalf("Import during reprovide: %v", err)
	}
	if _, err := c.GetBlock(quick, added.Cid); err != nil {
		t.Fatalf("GetBlock of the new import: %v", err)
	}
	mid, err := c.ProvideStats()
	if err != nil {
		t.Fatalf("ProvideStats during reprovide: %v", err)
	}
	if mid.TotalReprovides >= roots {
		t.Fatalf("stats count %d reprovides while the run is held half-way", mid.TotalReprovides)
	}

	close(router.release)
	select {
	case err := <-reprovided:
		if err != nil {
			t.Fatalf("Reprovide: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatalf("reprovide of %d roots did not finish within %s", roots, testTimeout)
	}
	took := time.Since(start)
	waitFor(t, router.all, "reprovide of every root")

	st, err := c.ProvideStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalReprovides < roots {
		t.Errorf("TotalReprovides %d, want at least %d", st.TotalReprovides, roots)
	}
	if st.LastRun.IsZero() || st.LastRun.Before(start) {
		t.Errorf("LastRun %v, want after the reprovide began (%v)", st.LastRun, start)
	}
	if st.ReprovideInterval != cfg.ReprovideInterval || st.Strategy != StrategyRoots {
		t.Errorf("interval %s strategy %q, want %s %q", st.ReprovideInterval, st.Strategy, cfg.ReprovideInterval, StrategyRoots)
	}
	t.Logf("reprovided %d roots in %s (avg %s per key)", roots, took, st.AvgReprovideDuration)
}

// TestProvideStatsOffline: a node with nobody to announce to reports a
// reprovider that never runs, and Reprovide is a harmless no-op.
func TestProvideStatsOffline(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	if err := c.Reprovide(testContext(t)); err != nil {
		t.Fatalf("Reprovide offline: %v", err)
	}
	st, err := c.ProvideStats()
	if err != nil {
		t.Fatal(err)
	}
	if st.ReprovideInterval != 0 || st.TotalReprovides != 0 || !st.LastRun.IsZero() || st.Strategy != StrategyRoots {
		t.Fatalf("offline stats %+v, want an idle reprovider with the roots strategy", st)
	}
}

// TestReprovideAfterClose fails with ErrClosed rather than touching a
// stopped provider.
func TestReprovideAfterClose(t *testing.T) {
	c, err := New(t.Context(), nil, nil, NewMemoryDatastore(), DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Reprovide(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Reprovide after Close: %v, want ErrClosed", err)
	}
}
