// Package packstore keeps blocks in append-only pack files, many blocks to
// a file, with each block's place and checksum in an index datastore.
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
// Integrity at rest: each value's index entry carries the CRC-32C of its
// bytes, taken when the value was put (its writer verified it), and every
// read from a pack checks it. A value that fails the check, or whose pack
// is too short for it, is damaged: it is never returned (ErrDamaged), its
// entry becomes a tombstone that Has does not count, so putting the value
// again repairs it, and it stays listed until then. Entries written before
// checksums are checked on their first read by Options.Verify, and their
// checksum recorded then.
//
// Crash safety: a value's index entry is written only once the value's
// bytes are synced, so no index entry, even one made durable by someone
// else's sync of the index, names bytes a power cut could lose; until then
// the value is served from memory and from the file. Sync makes every
// value put so far, and the index naming it, durable. Deleted and
// overwritten values leave dead bytes behind; once there are enough, a
// background compaction removes packs with nothing live and rewrites, one
// at a time and only where the disk has room, those mostly dead.
//
// A full disk: writes are refused ("no space left on device") while free
// space is under Options.Reserve, which keeps room for the index, pins and
// compaction. A write that fails all the same keeps its bytes in memory
// and is tried again before the next one, so nothing put is dropped, and
// the store goes on by itself once space returns.
package packstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/ipfs/go-datastore"
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
	// Reserve is the free space below which puts are refused: 32 MiB;
	// negative: none.
	Reserve int64
	// FS is where the packs live: the machine's file system if nil.
	FS FS
	// Verify checks a value read from an entry that has no checksum yet
	// (written before checksums); nil trusts it. Its checksum is recorded
	// once it passes.
	Verify func(key string, value []byte) error
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
	if o.Reserve == 0 {
		o.Reserve = 32 << 20
	}
	o.Reserve = max(o.Reserve, 0)
	if o.FS == nil {
		o.FS = osFS{}
	}
	return o
}

// Store is a datastore.Batching of values in pack files. Keys and their
// places live in the index datastore, which the caller owns and closes
// after the Store.
type Store struct {
	dir    string
	fs     FS
	index  datastore.Batching
	opts   Options
	direct bool

	// appendMu is held by a writer for the whole of a record, so records
	// never interleave while mu is let go for a buffer write to finish;
	// it is taken before mu.
	appendMu sync.Mutex
	// mu guards the pack being written and the values not yet indexed.
	mu sync.Mutex
	w  writer
	// writing and written mirror w.curID and the bytes of it written for
	// readers without mu: the bytes of pack writing below written never
	// change again. writing is 0 while no pack is open for appending.
	writing atomic.Uint32
	written atomic.Int64
	ra      *readahead // nil without direct I/O, where the kernel reads ahead
	small   *smallCache

	// packsMu is held for reading while a value is read from a pack, and
	// for writing while compaction removes one.
	packsMu   sync.RWMutex
	readersMu sync.Mutex
	readers   map[uint32]File

	compactMu sync.Mutex   // one compaction at a time
	deleted   atomic.Int64 // bytes deleted since the last compaction
	compact   chan struct{}
	cancel    context.CancelFunc
	done      chan struct{}
}

var errClosed = errors.New("packstore: closed")

// ErrDamaged is matched (errors.Is) by the error of a read whose bytes on
// disk are damaged: they fail their checksum, or their pack is too short
// for them or gone.
var ErrDamaged = errors.New("damaged on disk")

var _ datastore.Batching = (*Store)(nil)

// Open opens the packs in dir (creating dir if needed) with their index
// in index, and starts the store's compactor.
func Open(dir string, index datastore.Batching, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.FS.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	// dir's own name is durable only once its parent is synced.
	if err := opts.FS.SyncDir(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	s := &Store{
		dir:     dir,
		fs:      opts.FS,
		index:   index,
		opts:    opts,
		direct:  !opts.NoDirectIO && opts.FS.DirectIO(dir),
		small:   newSmallCache(opts.CacheBytes),
		readers: make(map[uint32]File),
		compact: make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.w.init(&s.mu)
	next, err := s.removeEmptyPacks()
	if err != nil {
		return nil, err
	}
	// Appending always starts a new pack, so that bytes a crash lost at
	// the end of the last one are never overwritten under an index entry
	// that might still name them.
	s.w.nextID = next
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.direct {
		s.ra = newReadahead(ctx)
	}
	go s.compactor(ctx)
	return s, nil
}

// removeEmptyPacks removes the packs with no bytes, which hold nothing
// (each restart used to leave one), and returns the id for the next pack.
func (s *Store) removeEmptyPacks() (uint32, error) {
	ids, err := packIDs(s.fs, s.dir)
	if err != nil {
		return 0, fmt.Errorf("packstore: %w", err)
	}
	last := uint32(0)
	for id, size := range ids {
		last = max(last, id)
		if size == 0 {
			if err := s.fs.Remove(packPath(s.dir, id)); err != nil {
				return 0, fmt.Errorf("packstore: remove empty pack: %w", err)
			}
		}
	}
	return last + 1, nil
}

// Put appends value to the current pack under key.
func (s *Store) Put(ctx context.Context, key datastore.Key, value []byte) error {
	sum := checksum(value) // outside the lock: other writers need not wait for it
	s.lockAll()
	defer s.unlockAll()
	return s.putLocked(key.String(), value, sum, true)
}

// Has reports whether key holds a value that is not known to be damaged.
func (s *Store) Has(ctx context.Context, key datastore.Key) (bool, error) {
	s.mu.Lock()
	_, ok := s.w.pending[key.String()]
	s.mu.Unlock()
	if ok {
		return true, nil
	}
	at, err := s.lookup(ctx, key)
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	return err == nil && !at.damaged, err
}

// GetSize returns the length of key's value without reading it; a
// damaged value has its length still, so that deleting it is counted.
func (s *Store) GetSize(ctx context.Context, key datastore.Key) (int, error) {
	s.mu.Lock()
	at, ok := s.w.pending[key.String()]
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
	if at, ok := s.w.pending[k]; ok {
		delete(s.w.pending, k)
		s.addDead(at)
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
	s.w.unsaved = true
	s.addDead(at)
	return nil
}

// addDead counts the bytes at left dead in a pack, starting a compaction
// once enough are.
func (s *Store) addDead(at loc) {
	if at.damaged {
		return // a tombstone holds no bytes
	}
	if s.deleted.Add(int64(at.n)) >= s.opts.CompactAfter {
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

// DiskUsage is the bytes of all pack files.
func (s *Store) DiskUsage(context.Context) (uint64, error) {
	ids, err := packIDs(s.fs, s.dir)
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
	if s.w.closed {
		return nil
	}
	err := s.syncLocked(context.Background())
	s.w.closed = true
	s.mu.Unlock()
	s.w.writes.Wait() // a write that failed is still signalling
	s.mu.Lock()
	errs := []error{err, s.w.release()}
	s.readersMu.Lock()
	for id, f := range s.readers {
		errs = append(errs, f.Close())
		delete(s.readers, id)
	}
	s.readersMu.Unlock()
	return errors.Join(errs...)
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

// logger is the package's structured logger.
var logger = slog.Default().With("component", "packstore")
