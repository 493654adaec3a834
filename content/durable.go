package content

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
	"golang.org/x/sys/unix"
)

// pinsPrefix is where boxo's pinner keeps its records.
const pinsPrefix = "/pins"

// durableStore makes blocks durable exactly when durability matters: right
// before a pin record is written. Blocks are written without fsync,
// which cached (fetched, unpinned) blocks never need — a lost one is fetched
// again — and a pin record is never written while a block written before it
// may still sit only in memory: the block store's Sync runs first (packs:
// their own; a flatfs repo: syncfs(2), see syncfsStore). Content that was
// added or pinned therefore survives a power loss, and fetching or
// importing does not wait on one fsync per block.
//
// A block write counts from its start to its end (inflight) and marks the
// blocks dirty once it has landed, and a flush clears dirty before it
// syncs, under flushMu: so a block that a pin can see (its write landed)
// is always either covered by a flush that has finished, or still in
// flight or dirty, which makes the pin flush. (Marking dirty before the
// write, as this did first, let a flush that ran while the write was still
// on its way clear the mark, and a later pin naming the block go to disk
// before it.)
//
// Measured with go test ./content -bench 'Fetch|AddGet' on the development
// machine: fetching into flatfs with an fsync per block ran at about 150
// MB/s against about 230 MB/s without.
type durableStore struct {
	datastore.Batching
	flushMu  sync.Mutex
	inflight atomic.Int64
	dirty    atomic.Bool
}

// syncfsStore is a flatfs block store whose Sync flushes the filesystem
// holding it: its files are many and written without fsync, and flatfs's
// own Sync does nothing then.
type syncfsStore struct {
	*flatfs.Datastore
	dir *os.File
}

func newSyncfsStore(fs *flatfs.Datastore, dir string) (*syncfsStore, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return &syncfsStore{Datastore: fs, dir: f}, nil
}

// Sync flushes the whole file system holding the blocks.
func (s *syncfsStore) Sync(context.Context, datastore.Key) error {
	return unix.Syncfs(int(s.dir.Fd()))
}

// Close closes flatfs and the directory.
func (s *syncfsStore) Close() error {
	return errors.Join(s.Datastore.Close(), s.dir.Close())
}

// isBlock and isPin classify keys.
func isBlock(key datastore.Key) bool { return strings.HasPrefix(key.String(), blocksPrefix+"/") }
func isPin(key datastore.Key) bool   { return strings.HasPrefix(key.String(), pinsPrefix+"/") }

// blockWrite runs one write of blocks, counted in flight until it has
// landed and marked the blocks dirty.
func (d *durableStore) blockWrite(write func() error) error {
	d.inflight.Add(1)
	defer d.inflight.Add(-1)
	err := write()
	d.dirty.Store(true)
	return err
}

// flushBlocks makes every block that has landed durable, unless nothing
// was written since the last flush; a flush in progress is waited for.
func (d *durableStore) flushBlocks() error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	if !d.dirty.Load() && d.inflight.Load() == 0 {
		return nil
	}
	d.dirty.Store(false)
	if err := d.Batching.Sync(context.Background(), datastore.NewKey(blocksPrefix)); err != nil {
		d.dirty.Store(true)
		return fmt.Errorf("flush blocks to disk: %w", err)
	}
	return nil
}

// Put writes a block as a block write, and a pin record only after the
// blocks are flushed.
func (d *durableStore) Put(ctx context.Context, key datastore.Key, value []byte) error {
	switch {
	case isBlock(key):
		return d.blockWrite(func() error { return d.Batching.Put(ctx, key, value) })
	case isPin(key):
		if err := d.flushBlocks(); err != nil {
			return err
		}
	}
	return d.Batching.Put(ctx, key, value)
}

// Batch returns a batch that keeps the same rule.
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
	if err := d.flushBlocks(); err != nil {
		return err
	}
	return d.Batching.Sync(ctx, prefix)
}

// Close flushes the blocks, then closes both stores.
func (d *durableStore) Close() error {
	return errors.Join(d.flushBlocks(), d.Batching.Close())
}

// durableBatch applies the same rule to batched writes: its blocks land
// on Commit, and pins wait for a flush before they are batched.
type durableBatch struct {
	datastore.Batch
	store  *durableStore
	blocks bool
}

// Put queues a write: a block marks the batch as holding blocks, a pin
// waits for the blocks to be flushed.
func (b *durableBatch) Put(ctx context.Context, key datastore.Key, value []byte) error {
	switch {
	case isBlock(key):
		b.blocks = true
	case isPin(key):
		if err := b.store.flushBlocks(); err != nil {
			return err
		}
	}
	return b.Batch.Put(ctx, key, value)
}

// Commit writes the batch, as a block write if it holds blocks.
func (b *durableBatch) Commit(ctx context.Context) error {
	if !b.blocks {
		return b.Batch.Commit(ctx)
	}
	return b.store.blockWrite(func() error { return b.Batch.Commit(ctx) })
}
