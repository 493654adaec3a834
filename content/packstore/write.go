package packstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/ipfs/go-datastore"
)

// writer is the state of appending, guarded by Store.mu.
type writer struct {
	// A full buffer is written by a goroutine of its own while appends
	// fill another, up to maxInflight writes at once, so neither writers
	// nor readers wait on the device unless every buffer is full. flights
	// are the writes not yet wholly done, in the order of their place in
	// the pack, a failed one kept (with its buffer) until it is written
	// again; spares are buffers free for appends. flushed is signalled
	// (on mu) when a write ends.
	flights []*flight
	spares  [][]byte
	flushed *sync.Cond
	writes  sync.WaitGroup

	cur       File // nil until the first append after Open or a rotation
	curID     uint32
	nextID    uint32
	dirSynced bool   // cur's directory entry is durable
	buf       []byte // the bytes of cur from base on, not all written yet
	base      int64
	n         int
	// synced is how much of cur is durable, and so indexed; lastTry is
	// where syncEarly last tried.
	synced, lastTry int64
	// pending are the values not yet indexed, in memory or only in the
	// file; order has them in the order they were appended.
	pending map[string]loc
	order   []pendingRec
	indexed uint64 // counts the batches of pending values indexed
	unsaved bool   // cur or the index has writes no Sync covered
	closed  bool
	// appended counts the bytes appended, to space out the free-space
	// checks: the next is due at checkAt.
	appended, checkAt int64
}

type pendingRec struct {
	key string
	at  loc
}

func (w *writer) init(mu *sync.Mutex) {
	w.flushed = sync.NewCond(mu)
	w.pending = make(map[string]loc)
}

// release frees the buffers and closes the pack; nothing may write after.
func (w *writer) release() error {
	var errs []error
	if w.cur != nil {
		errs = append(errs, w.cur.Close())
		w.cur = nil
	}
	for _, fl := range w.flights {
		w.spares = append(w.spares, fl.buf)
	}
	for _, b := range append(w.spares, w.buf) {
		if b != nil {
			errs = append(errs, freeWriteBuffer(b))
		}
	}
	w.buf, w.spares, w.flights = nil, nil, nil
	return errors.Join(errs...)
}

// Bounds on what waits for the index: a value's entry is written once its
// bytes are synced, which Sync does, and so does a put once this much has
// been written since the last sync, or this many values wait.
const (
	syncEvery    = 64 << 20
	maxUnindexed = 4096
)

// putLocked, called under lockAll, appends one record — key length, key,
// value length, value, so a pack can be read without its index — and
// remembers where the value is. sum is the value's checksum; with reserve
// the put is refused when the disk is nearly full (compaction's moves are
// not: they are what frees it).
func (s *Store) putLocked(key string, value []byte, sum uint32, reserve bool) error {
	if err := s.ready(reserve); err != nil {
		return err
	}
	// A value put again under its key leaves the old bytes dead, as a
	// delete does.
	if old, ok := s.w.pending[key]; ok {
		s.addDead(old)
	} else if old, err := s.lookup(context.Background(), datastore.RawKey(key)); err == nil {
		s.addDead(old)
	}
	var hdr [2*binary.MaxVarintLen64 + 256]byte
	h := binary.AppendUvarint(hdr[:0], uint64(len(key)))
	h = append(h, key...)
	h = binary.AppendUvarint(h, uint64(len(value)))
	if err := s.append(h); err != nil {
		return err
	}
	at := loc{pack: s.w.curID, off: s.w.base + int64(s.w.n), n: uint32(len(value)), sum: sum, summed: true}
	if err := s.append(value); err != nil {
		// The record's bytes so far stay in the pack, dead: no entry
		// names them.
		return err
	}
	s.w.pending[key] = at
	s.w.order = append(s.w.order, pendingRec{key, at})
	s.small.put(key, value)
	s.w.unsaved = true
	if s.w.base+int64(s.w.n) >= s.opts.MaxPackSize {
		return s.rotate()
	}
	s.syncEarly()
	return nil
}

// ready readies the store for a record: writes that failed are written
// again, the free space checked (with reserve) and a pack opened.
func (s *Store) ready(reserve bool) error {
	if s.w.closed {
		return errClosed
	}
	if err := s.retryFailed(); err != nil {
		return err
	}
	if reserve {
		if err := s.checkSpace(); err != nil {
			return err
		}
	}
	if s.w.cur == nil {
		return s.startPack()
	}
	return nil
}

// checkSpace refuses a put while the free space is under the reserve,
// plus what the buffers may still write and one buffer more. It looks
// once per buffer appended, and at every put while space is short, so
// that puts go on as soon as space returns.
func (s *Store) checkSpace() error {
	if s.opts.Reserve == 0 || s.w.appended < s.w.checkAt {
		return nil
	}
	free, err := s.fs.Free(s.dir)
	if err != nil {
		return nil // the writes themselves will tell
	}
	need := uint64(s.opts.Reserve) + uint64(maxInflight+2)*uint64(s.opts.BufferSize)
	if free < need {
		s.w.checkAt = s.w.appended
		return errFull(free, uint64(s.opts.Reserve))
	}
	s.w.checkAt = s.w.appended + int64(s.opts.BufferSize)
	return nil
}

// startPack opens a new pack to append to.
func (s *Store) startPack() error {
	id := s.w.nextID
	f, err := s.fs.Create(packPath(s.dir, id), s.direct)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			s.w.nextID++ // left by someone else: take the next
		}
		return fmt.Errorf("packstore: new pack: %w", err)
	}
	s.w.nextID++
	s.w.cur, s.w.curID, s.w.dirSynced = f, id, false
	s.w.base, s.w.n, s.w.synced, s.w.lastTry = 0, 0, 0, 0
	s.written.Store(0)
	s.writing.Store(id)
	return nil
}

// append copies p into the buffer, writing the buffer out each time it
// fills.
func (s *Store) append(p []byte) error {
	if s.w.buf == nil {
		// Made on the first write, so a node that stores nothing holds
		// none of it.
		buf, err := newWriteBuffer(s.opts.BufferSize)
		if err != nil {
			return fmt.Errorf("packstore: write buffer: %w", err)
		}
		s.w.buf = buf
	}
	for len(p) > 0 {
		c := copy(s.w.buf[s.w.n:], p)
		s.w.n += c
		s.w.appended += int64(c)
		p = p[c:]
		if s.w.n == len(s.w.buf) {
			if err := s.startWrite(); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxInflight is how many buffer writes may be in flight at once. With
// one, a 1 GiB add on this VM waited 260-350 ms in all for the device (a
// single direct write stream runs about 1 GB/s here, the add 0.7); with
// two, 45-110 ms. The add's time did not move on an idle machine, where
// it is bound by CPU; the second write is for a device that stalls.
const maxInflight = 2

// maxHeld bounds the buffers held by writes in flight or failed: a record
// whose buffer write failed part-way is finished in a buffer or two more,
// the next put then waits for the failed ones to be written again.
const maxHeld = maxInflight + 2

// flight is a full buffer being written at offset at of pack id.
type flight struct {
	buf  []byte
	at   int64
	id   uint32
	done bool
	err  error
}

func (f *flight) end() int64 { return f.at + int64(len(f.buf)) }

// startWrite hands the full buffer to a goroutine that writes it, and
// goes on appending into a free one, waiting first if maxInflight writes
// are already in flight.
func (s *Store) startWrite() error {
	if err := s.waitForSlot(); err != nil {
		return err
	}
	next, err := s.freeBuffer()
	if err != nil {
		return err
	}
	fl := &flight{buf: s.w.buf, at: s.w.base, id: s.w.curID}
	s.w.flights = append(s.w.flights, fl)
	s.w.buf = next
	s.w.base += int64(len(fl.buf))
	s.w.n = 0
	f := s.w.cur
	s.w.writes.Go(func() {
		_, err := f.WriteAt(fl.buf, fl.at)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.finishWrite(fl, err)
	})
	return nil
}

// waitForSlot waits until fewer than maxInflight writes are held. A
// failed write is tried again at once; while it still fails, a record
// already begun is let finish in one more buffer, up to maxHeld.
func (s *Store) waitForSlot() error {
	for {
		if s.anyFailed() {
			err := s.retryFailed()
			if err == nil {
				continue
			}
			if len(s.w.flights) >= maxHeld {
				return err
			}
			return nil
		}
		if len(s.w.flights) < maxInflight {
			return nil
		}
		s.w.flushed.Wait()
	}
}

// anyFailed reports whether a buffer write failed and waits to be tried
// again.
func (s *Store) anyFailed() bool {
	for _, fl := range s.w.flights {
		if fl.done && fl.err != nil {
			return true
		}
	}
	return false
}

// running counts the buffer writes in flight.
func (s *Store) running() int {
	n := 0
	for _, fl := range s.w.flights {
		if !fl.done {
			n++
		}
	}
	return n
}

// freeBuffer returns a spare buffer, or a new one.
func (s *Store) freeBuffer() ([]byte, error) {
	if n := len(s.w.spares); n > 0 {
		b := s.w.spares[n-1]
		s.w.spares = s.w.spares[:n-1]
		return b, nil
	}
	b, err := newWriteBuffer(s.opts.BufferSize)
	if err != nil {
		return nil, fmt.Errorf("packstore: write buffer: %w", err)
	}
	return b, nil
}

// finishWrite, under mu, records the end of a buffer write. Writes may
// end out of order: the pack counts as written only up to the first
// write not done, or failed. A failed write keeps its buffer, and its
// values stay readable from it, until it is written again (retryFailed).
func (s *Store) finishWrite(fl *flight, err error) {
	defer s.w.flushed.Broadcast()
	fl.done, fl.err = true, err
	if err != nil {
		logger.Warn("pack write failed; its bytes are kept in memory and written again before the next put",
			"pack", packName(fl.id), "err", err)
	}
	s.popWritten()
}

// popWritten drops the writes done from the head of flights, advancing
// written.
func (s *Store) popWritten() {
	for len(s.w.flights) > 0 && s.w.flights[0].done && s.w.flights[0].err == nil {
		fl := s.w.flights[0]
		s.w.flights = s.w.flights[1:]
		s.written.Store(fl.end())
		if len(s.w.spares) < maxInflight {
			s.w.spares = append(s.w.spares, fl.buf)
		} else if err := freeWriteBuffer(fl.buf); err != nil {
			logger.Warn("free write buffer", "err", err)
		}
	}
}

// retryFailed writes the failed buffer writes again, in order, failing
// while one still fails.
func (s *Store) retryFailed() error {
	for _, fl := range s.w.flights {
		if !fl.done || fl.err == nil {
			continue
		}
		if _, err := s.w.cur.WriteAt(fl.buf, fl.at); err != nil {
			fl.err = err
			return fmt.Errorf("packstore: write %s: %w", packName(fl.id), err)
		}
		fl.err = nil
	}
	s.popWritten()
	return nil
}

// settle waits for the buffer writes in flight, then writes again those
// that failed.
func (s *Store) settle() error {
	for s.running() > 0 {
		s.w.flushed.Wait()
	}
	return s.retryFailed()
}

// writeTail writes the part of the buffer not yet written, padded to the
// next aligned length; the buffer stays, to be written again in full once
// it fills.
func (s *Store) writeTail() error {
	if err := s.settle(); err != nil {
		return err
	}
	if s.w.n == 0 {
		return nil
	}
	padded := int(roundUp(int64(s.w.n)))
	clear(s.w.buf[s.w.n:padded])
	if _, err := s.w.cur.WriteAt(s.w.buf[:padded], s.w.base); err != nil {
		return fmt.Errorf("packstore: write %s: %w", packName(s.w.curID), err)
	}
	return nil
}

// syncPack makes cur durable up to upTo (written already) and indexes
// the values that end there or before.
func (s *Store) syncPack(upTo int64) error {
	if err := s.w.cur.SyncData(); err != nil {
		return fmt.Errorf("packstore: sync %s: %w", packName(s.w.curID), err)
	}
	if !s.w.dirSynced {
		// A new file's name is durable only once its directory is.
		if err := s.fs.SyncDir(s.dir); err != nil {
			return fmt.Errorf("packstore: sync %s: %w", s.dir, err)
		}
		s.w.dirSynced = true
	}
	s.w.synced = max(s.w.synced, upTo)
	return s.indexUpTo(s.w.synced)
}

// syncEarly syncs and indexes what is written once syncEvery bytes or
// maxUnindexed values wait, so that neither grows without bound between
// Syncs. A failure is left for Sync to report.
func (s *Store) syncEarly() {
	w := s.written.Load()
	if w <= s.w.lastTry || (w-s.w.synced < syncEvery && len(s.w.order) < maxUnindexed) {
		return
	}
	s.w.lastTry = w
	if err := s.syncPack(w); err != nil {
		logger.Warn("early sync failed; Sync will try again", "err", err)
	}
}

// indexUpTo records in the index, in one batch, every pending value that
// lies wholly in cur's first limit bytes.
func (s *Store) indexUpTo(limit int64) error {
	i := 0
	for ; i < len(s.w.order); i++ {
		if r := s.w.order[i]; r.at.pack == s.w.curID && r.at.end() > limit {
			break
		}
	}
	if i == 0 {
		return nil
	}
	ctx := context.Background()
	b, err := s.index.Batch(ctx)
	if err != nil {
		return fmt.Errorf("packstore: index: %w", err)
	}
	for _, r := range s.w.order[:i] {
		if at, ok := s.w.pending[r.key]; ok && at == r.at {
			if err := b.Put(ctx, datastore.NewKey(r.key), r.at.encode()); err != nil {
				return fmt.Errorf("packstore: index: %w", err)
			}
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("packstore: index: %w", err)
	}
	for _, r := range s.w.order[:i] {
		if at, ok := s.w.pending[r.key]; ok && at == r.at {
			delete(s.w.pending, r.key)
		}
	}
	s.w.order = append(s.w.order[:0], s.w.order[i:]...)
	s.w.indexed++
	return nil
}

// syncLocked, under lockAll, makes every value put so far durable and
// indexed, and the index durable.
func (s *Store) syncLocked(ctx context.Context) error {
	if !s.w.unsaved {
		return nil
	}
	if s.w.cur != nil {
		if err := s.writeTail(); err != nil {
			return err
		}
		if err := s.syncPack(s.w.base + int64(s.w.n)); err != nil {
			return err
		}
	}
	if err := s.index.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("packstore: sync index: %w", err)
	}
	s.w.unsaved = false
	return nil
}

// rotate seals the current pack, durable and wholly indexed; the next put
// starts the next.
func (s *Store) rotate() error {
	end := s.w.base + int64(s.w.n)
	if err := s.writeTail(); err != nil {
		return err
	}
	if err := s.syncPack(end); err != nil {
		return err
	}
	if err := s.w.cur.Close(); err != nil {
		return fmt.Errorf("packstore: close %s: %w", packName(s.w.curID), err)
	}
	s.w.cur, s.w.n, s.w.base = nil, 0, 0
	s.writing.Store(0)
	return nil
}
