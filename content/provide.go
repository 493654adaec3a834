package content

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/dag/walker"
	bsfetcher "github.com/ipfs/boxo/fetcher/impl/blockservice"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	"github.com/ipfs/boxo/provider"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	mh "github.com/multiformats/go-multihash"
)

// newProvider starts boxo's provider system: a queue persisted in ds under
// /provider that announces keys through r, and, every interval (0: never),
// re-announces the keys that SetKeyProvider will name. Without a router or
// a host there is nobody to announce to, so announcements are dropped.
func newProvider(ds datastore.Batching, r Router, online bool, interval time.Duration) (provider.System, error) {
	if r == nil || !online {
		return provider.NewNoopProvider(), nil
	}
	sys, err := provider.New(ds,
		provider.Online(r),
		provider.ReproviderInterval(interval),
	)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	return sys, nil
}

// queueProvider lets boxo's blockstore and pinner, which announce multihashes
// as they write or walk, feed the provider system's persistent queue.
type queueProvider struct{ sys provider.System }

var _ provider.MultihashProvider = queueProvider{}

// StartProviding queues every key; force is moot, the queue deduplicates.
func (q queueProvider) StartProviding(_ bool, keys ...mh.Multihash) error {
	var errs []error
	for _, k := range keys {
		if err := q.sys.Provide(context.Background(), cid.NewCidV1(cid.Raw, k), true); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reprovideKeys returns the keys re-announced each interval under strategy.
// Each is buffered so that listing pins or blocks finishes quickly and does
// not hold the pinner while the DHT takes its time.
func reprovideKeys(strategy string, pins pin.Pinner, bstore blockstore.Blockstore) provider.KeyChanFunc {
	// Roots need no DAG walk; the offline fetcher is only there because
	// NewPinnedProvider takes one, and must never reach the network.
	roots := dspinner.NewPinnedProvider(true, pins, bsfetcher.NewFetcherConfig(blockservice.New(bstore, nil)))
	switch strategy {
	case StrategyPinned:
		return provider.NewBufferedProvider(func(ctx context.Context) (<-chan cid.Cid, error) {
			// A fresh tracker per cycle: a shared one would remember the
			// last cycle's blocks and skip them all next time.
			return dspinner.NewUniquePinnedProvider(pins, bstore, walker.NewMapTracker())(ctx)
		})
	case StrategyAll:
		// Roots first, so that what users pinned is findable early in a
		// long cycle.
		return provider.NewPrioritizedProvider(
			provider.NewBufferedProvider(roots),
			provider.NewBufferedProvider(bstore.AllKeysChan),
		)
	default:
		return provider.NewBufferedProvider(roots)
	}
}

// Provide queues an announcement that this node provides k; the provider
// system sends it through the router in the background.
func (c *Content) Provide(ctx context.Context, k cid.Cid) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := c.prov.Provide(ctx, k, true); err != nil {
		return fmt.Errorf("provide %s: %w", k, err)
	}
	return nil
}

// announce queues keys after a write succeeded. A failure to queue is logged,
// not returned: the data is stored, and the next reprovide (or a later
// Provide) covers it.
func (c *Content) announce(ctx context.Context, keys ...cid.Cid) {
	for _, k := range keys {
		if err := c.prov.Provide(ctx, k, true); err != nil {
			logger().Warn("content: queue announcement failed", "cid", k, "err", err)
			return
		}
	}
}
