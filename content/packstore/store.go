// Package packstore keeps blocks in append-only pack files, many blocks to
// a file, with each block's place in an index datastore.
//
// Why not a file per block (flatfs): on the development machine (a VM)
// writing through the page cache costs the kernel about 4.4 CPU-seconds
// per GiB of new pages, and flatfs adds a create, rename and directory
// entry per block, so storing what a fetch receives took most of a core.
// Packs are written in large aligned chunks with direct I/O (0.3 CPU-s per
// GiB, measured with dd) and read back the same way (0.1 CPU-s per GiB,
// against 2.8 for a buffered read of pages not yet cached). Where the
// filesystem refuses direct I/O (tmpfs) the same code runs buffered.
//
// Crash safety: a block's index entry is written only once the block's
// bytes are in the file, so an index entry never names bytes that a killed
// process had not yet written; Sync makes both durable, in that order.
// Deleted and overwritten blocks leave dead bytes behind; once there are
// enough, a background compaction copies the live blocks of mostly-dead
// packs forward and removes those packs.
package packstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// Options tune a Store; zero values take the defaults.
type Options struct {
	// BufferSize is the bytes gathered before each write: 4 MiB.
	BufferSize int
	// MaxPackSize is the size past which a new pack is started: 256 MiB.
	MaxPackSize int64
	// CompactAfter is the dead bytes (deleted or overwritten) that start a
	// compaction: 16 MiB.
	CompactAfter int64
	// NoDirectIO writes and reads through the page cache.
	NoDirectIO bool
	// CacheBytes bounds the small values kept in memory (see cache.go):
	// 8 MiB; negative keeps none.
	CacheBytes int
}

func (o Options) withDefaults() Options {
	if o.BufferSize <= 0 {
		o.BufferSize = 4 << 20
	}
	o.BufferSize = int(roundUp(int64(o.BufferSize)))
	if o.MaxPackSize <= 0 {
		o.MaxPackSize = 256 << 20
	}
	if o.CompactAfter <= 0 {
		o.CompactAfter = 16 << 20
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 8 << 20
	}
	return o
}

// Store is a datastore.Batching of values in pack files. Keys and their
// places live in the index datastore, which the caller owns and closes
// after the Store.
type Store struct {
	dir    string
	index  datastore.Batching
	opts   Options
	direct bool

	// appendMu is held by a writer for the whole of a record, so records
	// never interleave while mu is let go for a buffer write to finish;
	// it is taken before mu.
	appendMu sync.Mutex
	// mu guards the pack being written and the blocks not yet indexed.
	mu sync.Mutex
	// A full buffer is written by a goroutine of its own while appends
	// fill another, up to maxInflight writes at once, so neither writers
	// nor readers wait on the device unless every buffer is full. flights
	// are the writes in flight, in the order of their place in the pack;
	// spares are buffers free for appends. flushed is signalled (on mu)
	// when a write ends.
	flights  []*flight
	spares   [][]byte
	writeErr error
	flushed  *sync.Cond
	writes   sync.WaitGroup
	cur      *os.File
	curID    uint32
	buf      []byte // the bytes of cur from base on, not all written yet
	base     int64
	n        int
	pending  map[string]loc // values not yet wholly in cur, or not yet indexed
	order    []pendingRec   // the same, in the order they were appended
	unsaved  bool           // cur or the index has writes no Sync covered
	closed   bool
	// writing and written mirror curID and base for readers without mu:
	// the bytes of pack writing below written never change again.
	writing atomic.Uint32
	written atomic.Int64
	ra      *readahead // nil without direct I/O, where the kernel reads ahead
	small   *smallCache

	// packsMu is held for reading while a value is read from a pack, and
	// for writing while compaction removes one.
	packsMu   sync.RWMutex
	readersMu sync.Mutex
	readers   map[uint32]*os.File

	compactMu sync.Mutex   // one compaction at a time
	deleted   atomic.Int64 // bytes deleted since the last compaction
	compact   chan struct{}
	cancel    context.CancelFunc
	done      chan struct{}
}

var errClosed = errors.New("packstore: closed")

type pendingRec struct {
	key string
	at  loc
}

var _ datastore.Batching = (*Store)(nil)

// Open opens the packs in dir (creating dir if needed) with their index
// in index, and starts the store's compactor.
func Open(dir string, index datastore.Batching, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	opts = opts.withDefaults()
	s := &Store{
		dir:     dir,
		index:   index,
		opts:    opts,
		direct:  !opts.NoDirectIO && directWorks(dir),
		pending: make(map[string]loc),
		small:   newSmallCache(opts.CacheBytes),
		readers: make(map[uint32]*os.File),
		compact: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.flushed = sync.NewCond(&s.mu)
	ids, err := packIDs(dir)
	if err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	// Appending always starts a new pack, so that bytes a crash lost at
	// the end of the last one are never overwritten under an index entry
	// that might still name them.
	last := uint32(0)
	for id := range ids {
		last = max(last, id)
	}
	if err := s.startPack(last + 1); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.direct {
		s.ra = newReadahead(ctx)
	}
	go s.compactor(ctx)
	return s, nil
}

// Put appends value to the current pack under key.
func (s *Store) Put(ctx context.Context, key datastore.Key, value []byte) error {
	s.lockAll()
	defer s.unlockAll()
	return s.putLocked(key.String(), value)
}

// Has reports whether key is stored.
func (s *Store) Has(ctx context.Context, key datastore.Key) (bool, error) {
	s.mu.Lock()
	_, ok := s.pending[key.String()]
	s.mu.Unlock()
	if ok {
		return true, nil
	}
	return s.index.Has(ctx, key)
}

// GetSize returns the length of key's value without reading it.
func (s *Store) GetSize(ctx context.Context, key datastore.Key) (int, error) {
	s.mu.Lock()
	at, ok := s.pending[key.String()]
	s.mu.Unlock()
	if ok {
		return int(at.n), nil
	}
	at, err := s.lookup(ctx, key)
	if err != nil {
		return -1, err
	}
	return int(at.n), nil
}

// Delete forgets key; its bytes stay in the pack until compaction.
func (s *Store) Delete(ctx context.Context, key datastore.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key.String()
	s.small.remove(k)
	if at, ok := s.pending[k]; ok {
		delete(s.pending, k)
		s.addDead(at.n)
	}
	// Under mu, so that compaction cannot copy the value forward between
	// the check and the delete and so bring it back.
	at, err := s.lookup(ctx, key)
	switch {
	case errors.Is(err, datastore.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if err := s.index.Delete(ctx, key); err != nil {
		return err
	}
	s.unsaved = true
	s.addDead(at.n)
	return nil
}

// addDead counts n bytes left dead in a pack, starting a compaction once
// enough are.
func (s *Store) addDead(n uint32) {
	if s.deleted.Add(int64(n)) >= s.opts.CompactAfter {
		select {
		case s.compact <- struct{}{}:
		default:
		}
	}
}

// Sync makes every value put so far, and the index naming it, durable.
func (s *Store) Sync(ctx context.Context, _ datastore.Key) error {
	s.lockAll()
	defer s.unlockAll()
	return s.syncLocked(ctx)
}

func (s *Store) syncLocked(ctx context.Context) error {
	if !s.unsaved {
		return nil
	}
	if err := s.writeTail(); err != nil {
		return err
	}
	if err := datasync(s.cur); err != nil {
		return fmt.Errorf("packstore: sync %s: %w", packName(s.curID), err)
	}
	if err := s.index.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("packstore: sync index: %w", err)
	}
	s.unsaved = false
	return nil
}

// Query lists the stored keys (with their values unless KeysOnly),
// applying the query's filters, orders, offset and limit.
func (s *Store) Query(ctx context.Context, q query.Query) (query.Results, error) {
	// Index what is only in memory, so the listing is complete.
	s.lockAll()
	err := s.writeTail()
	s.unlockAll()
	if err != nil {
		return nil, err
	}
	inner, err := s.index.Query(ctx, query.Query{Prefix: q.Prefix})
	if err != nil {
		return nil, err
	}
	res := query.ResultsFromIterator(q, query.Iterator{
		Next: func() (query.Result, bool) {
			r, ok := inner.NextSync()
			if !ok || r.Error != nil {
				return r, ok
			}
			at, err := decodeLoc(r.Value)
			if err != nil {
				return query.Result{Error: fmt.Errorf("packstore: %s: %w", r.Key, err)}, true
			}
			e := query.Entry{Key: r.Key, Size: int(at.n)}
			if !q.KeysOnly {
				s.packsMu.RLock()
				e.Value, err = s.read(at)
				s.packsMu.RUnlock()
				if err != nil {
					return query.Result{Error: err}, true
				}
			}
			return query.Result{Entry: e}, true
		},
		Close: inner.Close,
	})
	return query.NaiveQueryApply(query.Query{
		Filters: q.Filters, Orders: q.Orders, Offset: q.Offset, Limit: q.Limit,
	}, res), nil
}

// DiskUsage is the bytes of all pack files.
func (s *Store) DiskUsage(context.Context) (uint64, error) {
	ids, err := packIDs(s.dir)
	if err != nil {
		return 0, err
	}
	var total uint64
	for _, size := range ids {
		total += uint64(size)
	}
	return total, nil
}

// Batch gathers writes to apply together on Commit.
func (s *Store) Batch(context.Context) (datastore.Batch, error) {
	return &batch{s: s}, nil
}

// Close stops the compactor, makes everything durable and closes the
// packs. The index is the caller's to close, afterwards.
func (s *Store) Close() error {
	s.cancel()
	<-s.done
	if s.ra != nil {
		s.ra.wait()
	}
	s.lockAll()
	defer s.unlockAll()
	if s.closed {
		return nil
	}
	err := s.syncLocked(context.Background())
	s.closed = true
	s.mu.Unlock()
	s.writes.Wait() // a write that failed is still signalling
	s.mu.Lock()
	errs := []error{err, s.cur.Close()}
	for _, b := range append(s.spares, s.buf) {
		if b != nil {
			errs = append(errs, freeWriteBuffer(b))
		}
	}
	s.buf, s.spares = nil, nil
	s.readersMu.Lock()
	for id, f := range s.readers {
		errs = append(errs, f.Close())
		delete(s.readers, id)
	}
	s.readersMu.Unlock()
	return errors.Join(errs...)
}

// logger is the package's structured logger.
var logger = slog.Default().With("component", "packstore")
