package dht

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// provideConcurrency bounds the DHT announcements in flight during a
// reprovide. Each one is a lookup of 3–5 hops taking seconds on a real
// network, so one at a time (what boxo's reprovider falls back to without
// ProvideMany) cannot announce 10,000 roots inside the 22 h interval;
// 32 at once does it in well under an hour without flooding the DHT.
const provideConcurrency = 32

// ProvideMany announces every key, several at a time. boxo's reprovider
// uses it instead of one Provide per key. It fails only when no key could
// be announced, reporting how many failed, so one unreachable region of
// the keyspace does not mark a whole reprovide as failed.
func (d *DHT) ProvideMany(ctx context.Context, keys []mh.Multihash) error {
	if len(keys) == 0 {
		return nil
	}
	work := make(chan mh.Multihash)
	var failed atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(provideConcurrency, len(keys)) {
		wg.Go(func() {
			for k := range work {
				if err := d.Provide(ctx, cid.NewCidV1(cid.Raw, k), true); err != nil {
					failed.Add(1)
					once.Do(func() { firstErr = err })
				}
			}
		})
	}
feed:
	for _, k := range keys {
		select {
		case work <- k:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("provide %d keys: %w", len(keys), err)
	}
	if n := failed.Load(); n == int64(len(keys)) {
		return fmt.Errorf("provide %d keys: all failed, first: %w", n, firstErr)
	}
	return nil
}

// Ready reports whether announcing can succeed at all: some routing table
// has a peer. boxo's reprovider waits for it before a reprovide run.
func (d *DHT) Ready() bool {
	lan, wan := d.Peers()
	return lan+wan > 0
}
