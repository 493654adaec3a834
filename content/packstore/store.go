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
// Deleted blocks leave dead bytes behind; once enough are deleted a
// background compaction copies the live blocks of mostly-dead packs
// forward and removes those packs.
package packstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
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
	// CompactAfter is the bytes deleted that start a compaction: 16 MiB.
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
	// fill the other one (spare), so neither writers nor readers wait on
	// the device unless both buffers are full. flushed is signalled (on
	// mu) when that write ends.
	inflight   []byte
	inflightAt int64
	spare      []byte
	writeErr   error
	flushed    *sync.Cond
	writes     sync.WaitGroup
	cur        *os.File
	curID      uint32
	buf        []byte // the bytes of cur from base on, not all written yet
	base       int64
	n          int
	pending    map[string]loc // values not yet wholly in cur, or not yet indexed
	order      []pendingRec   // the same, in the order they were appended
	unsaved    bool           // cur or the index has writes no Sync covered
	closed     bool
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

// startPack makes pack id the one appended to. Called with mu held or
// before the store is shared.
func (s *Store) startPack(id uint32) error {
	f, err := openPack(s.dir, id, s.direct, true)
	if err != nil {
		return fmt.Errorf("packstore: new pack: %w", err)
	}
	s.cur, s.curID = f, id
	s.base, s.n = 0, 0
	s.written.Store(0)
	s.writing.Store(id)
	return nil
}

// Put appends value to the current pack under key.
func (s *Store) Put(ctx context.Context, key datastore.Key, value []byte) error {
	s.lockAll()
	defer s.unlockAll()
	return s.putLocked(key.String(), value)
}

// lockAll takes appendMu then mu, as every writer and every flush does.
func (s *Store) lockAll() {
	s.appendMu.Lock()
	s.mu.Lock()
}

func (s *Store) unlockAll() {
	s.mu.Unlock()
	s.appendMu.Unlock()
}

// putLocked, called under lockAll, appends one record — key length, key, value length, value, so
// a pack can be read without its index — and remembers where the value is.
func (s *Store) putLocked(key string, value []byte) error {
	if s.closed {
		return errClosed
	}
	if s.writeErr != nil {
		return s.writeErr
	}
	// A value put again under its key leaves the old bytes dead, as a
	// delete does.
	if old, ok := s.pending[key]; ok {
		s.addDead(old.n)
	} else if old, err := s.lookup(context.Background(), datastore.RawKey(key)); err == nil {
		s.addDead(old.n)
	}
	var hdr [2*binary.MaxVarintLen64 + 256]byte
	h := binary.AppendUvarint(hdr[:0], uint64(len(key)))
	h = append(h, key...)
	h = binary.AppendUvarint(h, uint64(len(value)))
	if err := s.append(h); err != nil {
		return err
	}
	at := loc{pack: s.curID, off: s.base + int64(s.n), n: uint32(len(value))}
	if err := s.append(value); err != nil {
		return err
	}
	s.pending[key] = at
	s.order = append(s.order, pendingRec{key, at})
	s.small.put(key, value)
	s.unsaved = true
	if s.base+int64(s.n) >= s.opts.MaxPackSize {
		return s.rotate()
	}
	return nil
}

// append copies p into the buffer, writing the buffer out each time it
// fills.
func (s *Store) append(p []byte) error {
	if s.buf == nil {
		// Made on the first write, so a node that stores nothing holds
		// none of it.
		buf, err := newWriteBuffer(s.opts.BufferSize)
		if err != nil {
			return fmt.Errorf("packstore: write buffer: %w", err)
		}
		s.buf = buf
	}
	for len(p) > 0 {
		c := copy(s.buf[s.n:], p)
		s.n += c
		p = p[c:]
		if s.n == len(s.buf) {
			if err := s.startWrite(); err != nil {
				return err
			}
		}
	}
	return nil
}

// startWrite hands the full buffer to a goroutine that writes it, and
// goes on appending into the spare one.
func (s *Store) startWrite() error {
	if err := s.waitWrite(); err != nil {
		return err
	}
	full, at, f, id := s.buf, s.base, s.cur, s.curID
	s.inflight, s.inflightAt = full, at
	s.buf, s.spare = s.spare, nil
	if s.buf == nil {
		buf, err := newWriteBuffer(s.opts.BufferSize)
		if err != nil {
			s.buf, s.inflight = full, nil
			return fmt.Errorf("packstore: write buffer: %w", err)
		}
		s.buf = buf
	}
	s.base += int64(len(full))
	s.n = 0
	s.writes.Go(func() {
		_, err := f.WriteAt(full, at)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.finishWrite(full, at, id, err)
	})
	return nil
}

// finishWrite, under mu, records the end of a buffer write: its values
// go into the index, or, if it failed, are forgotten and the store
// refuses further writes.
func (s *Store) finishWrite(buf []byte, at int64, id uint32, err error) {
	defer s.flushed.Broadcast()
	s.inflight = nil
	end := at + int64(len(buf))
	if err != nil {
		s.writeErr = fmt.Errorf("packstore: write %s: %w", packName(id), err)
		for _, r := range s.order {
			if r.at.end() > at && s.pending[r.key] == r.at {
				delete(s.pending, r.key)
				s.small.remove(r.key)
			}
		}
		return
	}
	s.spare = buf
	s.written.Store(end)
	if err := s.indexWritten(end); err != nil {
		s.writeErr = err
	}
}

// waitWrite waits, under mu, until no buffer write is in flight.
func (s *Store) waitWrite() error {
	for s.inflight != nil {
		s.flushed.Wait()
	}
	return s.writeErr
}

// writeTail writes the part of the buffer not yet written, padded to the
// next aligned length; the buffer stays, to be written again in full once
// it fills.
func (s *Store) writeTail() error {
	if err := s.waitWrite(); err != nil {
		return err
	}
	if s.n == 0 {
		return s.indexWritten(s.base)
	}
	padded := int(roundUp(int64(s.n)))
	clear(s.buf[s.n:padded])
	if _, err := s.cur.WriteAt(s.buf[:padded], s.base); err != nil {
		return fmt.Errorf("packstore: write %s: %w", packName(s.curID), err)
	}
	return s.indexWritten(s.base + int64(s.n))
}

// indexWritten records in the index, in one batch, every pending value
// that now lies wholly in the pack file, below written.
func (s *Store) indexWritten(written int64) error {
	i := 0
	for ; i < len(s.order); i++ {
		if r := s.order[i]; r.at.pack == s.curID && r.at.end() > written {
			break
		}
	}
	if i == 0 {
		return nil
	}
	b, err := s.index.Batch(context.Background())
	if err != nil {
		return fmt.Errorf("packstore: index: %w", err)
	}
	for _, r := range s.order[:i] {
		if at, ok := s.pending[r.key]; ok && at == r.at {
			if err := b.Put(context.Background(), datastore.NewKey(r.key), r.at.encode()); err != nil {
				return fmt.Errorf("packstore: index: %w", err)
			}
		}
	}
	if err := b.Commit(context.Background()); err != nil {
		return fmt.Errorf("packstore: index: %w", err)
	}
	for _, r := range s.order[:i] {
		if at, ok := s.pending[r.key]; ok && at == r.at {
			delete(s.pending, r.key)
		}
	}
	s.order = append(s.order[:0], s.order[i:]...)
	return nil
}

// rotate seals the current pack, durable and wholly indexed, and starts
// the next.
func (s *Store) rotate() error {
	if err := s.writeTail(); err != nil {
		return err
	}
	if err := datasync(s.cur); err != nil {
		return fmt.Errorf("packstore: sync %s: %w", packName(s.curID), err)
	}
	if err := s.cur.Close(); err != nil {
		return fmt.Errorf("packstore: close %s: %w", packName(s.curID), err)
	}
	return s.startPack(s.curID + 1)
}

// Get reads key's value from its pack, or from memory if it is not yet
// written.
func (s *Store) Get(ctx context.Context, key datastore.Key) ([]byte, error) {
	if v, ok := s.small.get(key.String()); ok {
		return v, nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	if at, ok := s.pending[key.String()]; ok {
		defer s.mu.Unlock()
		return s.readPending(at)
	}
	s.mu.Unlock()
	s.packsMu.RLock()
	defer s.packsMu.RUnlock()
	at, err := s.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	if at.pack == s.writing.Load() && at.end() > s.written.Load() {
		// Still in the buffer as well as on disk (written by Sync):
		// memory is faster than the device for what was just added.
		s.mu.Lock()
		if at.pack == s.curID && at.end() > s.base && !s.closed {
			defer s.mu.Unlock()
			return s.readPending(at)
		}
		s.mu.Unlock()
	}
	v, err := s.read(at)
	if err == nil && at.n <= cacheMaxValue {
		s.keepSmall(ctx, key, v)
	}
	return v, err
}

// keepSmall caches a small value just read, unless it was deleted
// meanwhile (Delete holds mu too, so one of the two sees the other).
func (s *Store) keepSmall(ctx context.Context, key datastore.Key, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, err := s.index.Has(ctx, key); err == nil && ok {
		s.small.put(key.String(), v)
	}
}

// readPending returns a copy of a value whose end is still in the buffer:
// the part before the buffer from the file, the rest from the buffer.
func (s *Store) readPending(at loc) ([]byte, error) {
	out := make([]byte, 0, at.n)
	inflightEnd := s.inflightAt + int64(len(s.inflight))
	for off, end := at.off, at.end(); off < end; {
		switch {
		case off >= s.base:
			out = append(out, s.buf[off-s.base:end-s.base]...)
			off = end
		case s.inflight != nil && off >= s.inflightAt && off < inflightEnd:
			stop := min(end, inflightEnd)
			out = append(out, s.inflight[off-s.inflightAt:stop-s.inflightAt]...)
			off = stop
		default:
			// Written already: everything before the buffers is.
			stop := min(end, s.base)
			if s.inflight != nil && s.inflightAt > off {
				stop = min(stop, s.inflightAt)
			}
			head, err := s.read(loc{pack: at.pack, off: off, n: uint32(stop - off)})
			if err != nil {
				return nil, err
			}
			out = append(out, head...)
			off = stop
		}
	}
	return out, nil
}

// lookup finds key in the index.
func (s *Store) lookup(ctx context.Context, key datastore.Key) (loc, error) {
	raw, err := s.index.Get(ctx, key)
	if err != nil {
		return loc{}, err
	}
	at, err := decodeLoc(raw)
	if err != nil {
		return loc{}, fmt.Errorf("packstore: %s: %w", key, err)
	}
	return at, nil
}

// read reads a value from its pack file.
func (s *Store) read(at loc) ([]byte, error) {
	f, err := s.reader(at.pack)
	if err != nil {
		return nil, err
	}
	if s.ra != nil {
		final := int64(math.MaxInt64)
		if at.pack == s.writing.Load() {
			final = s.written.Load()
		}
		b, ok, err := s.ra.read(f, at.pack, at.off, int(at.n), final)
		if err != nil {
			return nil, fmt.Errorf("packstore: read %s at %d: %w", packName(at.pack), at.off, err)
		}
		if ok {
			return b, nil
		}
	}
	b, err := readAt(f, s.direct, at.off, int(at.n))
	if err != nil {
		return nil, fmt.Errorf("packstore: read %s at %d: %w", packName(at.pack), at.off, err)
	}
	return b, nil
}

// reader returns the open file for reading pack id.
func (s *Store) reader(id uint32) (*os.File, error) {
	s.readersMu.Lock()
	defer s.readersMu.Unlock()
	if f, ok := s.readers[id]; ok {
		return f, nil
	}
	f, err := openPack(s.dir, id, s.direct, false)
	if err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	s.readers[id] = f
	return f, nil
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
	for _, b := range [][]byte{s.buf, s.spare} {
		if b != nil {
			errs = append(errs, freeWriteBuffer(b))
		}
	}
	s.buf, s.spare = nil, nil
	s.readersMu.Lock()
	for id, f := range s.readers {
		errs = append(errs, f.Close())
		delete(s.readers, id)
	}
	s.readersMu.Unlock()
	return errors.Join(errs...)
}

// batch applies its writes on Commit, in order.
type batch struct {
	s   *Store
	ops []batchOp
}

type batchOp struct {
	key    datastore.Key
	value  []byte
	delete bool
}

func (b *batch) Put(_ context.Context, key datastore.Key, value []byte) error {
	b.ops = append(b.ops, batchOp{key: key, value: value})
	return nil
}

func (b *batch) Delete(_ context.Context, key datastore.Key) error {
	b.ops = append(b.ops, batchOp{key: key, delete: true})
	return nil
}

func (b *batch) Commit(ctx context.Context) error {
	for _, op := range b.ops {
		var err error
		if op.delete {
			err = b.s.Delete(ctx, op.key)
		} else {
			err = b.s.Put(ctx, op.key, op.value)
		}
		if err != nil {
			return err
		}
	}
	b.ops = nil
	return nil
}

// logger is the package's structured logger.
var logger = slog.Default().With("component", "packstore")
