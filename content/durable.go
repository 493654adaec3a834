package content

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"github.com/ipfs/go-datastore"
	"golang.org/x/sys/unix"
)

// pinsPrefix is where boxo's pinner keeps its records.
const pinsPrefix = "/pins"

// durableStore makes blocks durable exactly when durability matters: right
// before a pin record is written. Blocks are written without fsync,
// which cached (fetched, unpinned) blocks never need — a lost one is fetched
// again — and a pin record is never written while a block written before it
// may still sit only in memory: the block store is flushed first (packs:
// their Sync; a flatfs repo: syncfs(2) of its filesystem). Content that was added or pinned therefore survives a
// power loss, and fetching or importing does not wait on one fsync per block.
//
// Measured with go test ./content -bench 'Fetch|AddGet' on the development
// machine: fetching into flatfs with an fsync per block ran at about 150
// MB/s against about 230 MB/s without.
type durableStore struct {
	datastore.Batching
	// flush makes every block written so far durable; release frees what
	// it holds, on Close.
	flush   func() error
	release func() error
	// dirty is set by any block write and cleared by the syncfs that
	// covers it, so a pin after nothing new costs no flush.
	dirty atomic.Bool
}

// syncfsFlush flushes the filesystem holding dir, for a flatfs block store,
// whose files are many and written without fsync.
func syncfsFlush(dir string) (flush, release func() error, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", dir, err)
	}
	flush = func() error { return unix.Syncfs(int(f.Fd())) }
	return flush, f.Close, nil
}

// before runs ahead of every write: block writes mark the store dirty, pin
// writes first flush what is dirty.
func (d *durableStore) before(key datastore.Key) error {
	k := key.String()
	switch {
	case strings.HasPrefix(k, blocksPrefix+"/"):
		d.dirty.Store(true)
	case strings.HasPrefix(k, pinsPrefix+"/") && d.dirty.Load():
		return d.flushBlocks()
	}
	return nil
}

// flushBlocks makes every block written so far durable.
func (d *durableStore) flushBlocks() error {
	d.dirty.Store(false)
	if err := d.flush(); err != nil {
		d.dirty.Store(true)
		return fmt.Errorf("flush blocks to disk: %w", err)
	}
	return nil
}

func (d *durableStore) Put(ctx context.Context, key datastore.Key, value []byte) error {
	if err := d.before(key); err != nil {
		return err
	}
	return d.Batching.Put(ctx, key, value)
}

func (d *durableStore) Batch(ctx context.Context) (datastore.Batch, error) {
	b, err := d.Batching.Batch(ctx)
	if err != nil {
		return nil, err
	}
	return &durableBatch{Batch: b, store: d}, nil
}

// Sync of anything but blocks alone flushes the blocks too: callers sync
// to make state durable, and state may name blocks.
func (d *durableStore) Sync(ctx context.Context, prefix datastore.Key) error {
	if d.dirty.Load() {
		if err := d.flushBlocks(); err != nil {
			return err
		}
	}
	return d.Batching.Sync(ctx, prefix)
}

// Close flushes the blocks, then closes both stores.
func (d *durableStore) Close() error {
	var flushErr error
	if d.dirty.Load() {
		flushErr = d.flushBlocks()
	}
	return errors.Join(flushErr, d.Batching.Close(), d.release())
}

// durableBatch applies the same rule to batched writes.
type durableBatch struct {
	datastore.Batch
	store *durableStore
}

func (b *durableBatch) Put(ctx context.Context, key datastore.Key, value []byte) error {
	if err := b.store.before(key); err != nil {
		return err
	}
	return b.Batch.Put(ctx, key, value)
}
