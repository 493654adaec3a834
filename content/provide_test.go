package content

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
)

// dagKeys lists the multihashes (as strings) of every block under root.
func dagKeys(t *testing.T, c *Content, root cid.Cid) []string {
	t.Helper()
	var keys []string
	err := merkledag.Walk(testContext(t), merkledag.GetLinksWithDAG(c.dag), root, func(k cid.Cid) bool {
		keys = append(keys, string(k.Hash()))
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func keySet(keys ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, ks := range keys {
		for _, k := range ks {
			set[k] = true
		}
	}
	return set
}

func TestReprovideKeysByStrategy(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	small := ImportOptions{CIDVersion: -1, ChunkSize: 64 << 10}
	pinned := small
	pinned.Pin = true
	kept := importBytes(t, c, randomBytes(300<<10, 9), pinned)
	cached := importBytes(t, c, randomBytes(200<<10, 10), small)
	direct, err := c.PutBlock(ctx, []byte("direct"), "raw", "", -1, true)
	if err != nil {
		t.Fatal(err)
	}
	directKeys := []string{string(direct.Hash())}

	tests := []struct {
		strategy string
		want     map[string]bool
	}{
		{StrategyRoots, keySet([]string{string(kept.Cid.Hash())}, directKeys)},
		{StrategyPinned, keySet(dagKeys(t, c, kept.Cid), directKeys)},
		{StrategyAll, keySet(dagKeys(t, c, kept.Cid), dagKeys(t, c, cached.Cid), directKeys)},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			ch, err := reprovideKeys(tt.strategy, c.pins, c.bstore)(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for k := range ch {
				got[string(k.Hash())] = true
			}
			if !maps.Equal(got, tt.want) {
				t.Fatalf("%d keys, want %d", len(got), len(tt.want))
			}
		})
	}
}

// waitAllAnnounced waits until every key of want has been announced.
func (f *fakeRouting) waitAllAnnounced(t *testing.T, want []string) {
	t.Helper()
	missing := keySet(want)
	deadline := time.After(testTimeout)
	for len(missing) > 0 {
		select {
		case k := <-f.announced:
			delete(missing, string(k.Hash()))
		case <-deadline:
			t.Fatalf("%d of %d keys never announced", len(missing), len(want))
		}
	}
}

// TestAnnounceOnImport: the root of every import is announced at once; under
// "pinned" and "all" the rest of the DAG follows.
func TestAnnounceOnImport(t *testing.T) {
	for _, strategy := range []string{StrategyRoots, StrategyPinned, StrategyAll} {
		t.Run(strategy, func(t *testing.T) {
			routing := newFakeRouting()
			h := newHost(t)
			cfg := DefaultConfig()
			cfg.ProvideStrategy = strategy
			c := newTestContent(t, h, routing.routerFor(h), NewMemoryDatastore(), cfg)
			res := importBytes(t, c, randomBytes(256<<10, 11), ImportOptions{CIDVersion: -1, ChunkSize: 64 << 10, Pin: true})
			want := []string{string(res.Cid.Hash())}
			if strategy != StrategyRoots {
				want = dagKeys(t, c, res.Cid)
			}
			routing.waitAllAnnounced(t, want)
			if strategy == StrategyRoots {
				// The other strategies queue the leaves before the root
				// (they are written first), so had this one queued any,
				// they would be out by now.
				routing.mu.Lock()
				n := len(routing.providers)
				routing.mu.Unlock()
				if n != 1 {
					t.Fatalf("roots strategy announced %d keys, want 1", n)
				}
			}
		})
	}
}

func TestProvideQueues(t *testing.T) {
	routing := newFakeRouting()
	h := newHost(t)
	c := newTestContent(t, h, routing.routerFor(h), NewMemoryDatastore(), DefaultConfig())
	k := rawCID(t, []byte("anything"))
	if err := c.Provide(testContext(t), k); err != nil {
		t.Fatal(err)
	}
	routing.waitAnnounced(t, k)
	var got []string
	for ai := range routing.routerFor(h).FindProvidersAsync(t.Context(), k, 0) {
		got = append(got, ai.ID.String())
	}
	if !slices.Equal(got, []string{h.ID().String()}) {
		t.Fatalf("providers of %s = %v, want this node", k, got)
	}
}
