package packstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"

	"github.com/ipfs/go-datastore"
)

// Get reads key's value from its pack, or from memory if it is not yet
// written. A value whose bytes on disk are damaged gives ErrDamaged.
func (s *Store) Get(ctx context.Context, key datastore.Key) ([]byte, error) {
	k := key.String()
	if v, ok := s.small.get(k); ok {
		return v, nil
	}
	s.mu.Lock()
	if s.w.closed {
		s.mu.Unlock()
		return nil, errClosed
	}
	at, pending := s.w.pending[k]
	if pending && at.end() > s.written.Load() {
		defer s.mu.Unlock()
		return s.readPending(at)
	}
	s.mu.Unlock()
	s.packsMu.RLock()
	defer s.packsMu.RUnlock()
	if !pending {
		var err error
		if at, err = s.lookup(ctx, key); err != nil {
			return nil, err
		}
	}
	if !at.damaged && at.pack == s.writing.Load() && at.end() > s.written.Load() {
		// Still in the buffer as well as on disk (written by Sync):
		// memory is faster than the device for what was just added.
		s.mu.Lock()
		if at.pack == s.w.curID && at.end() > s.w.base && !s.w.closed {
			defer s.mu.Unlock()
			return s.readPending(at)
		}
		s.mu.Unlock()
	}
	v, err := s.readChecked(k, at)
	if err == nil && at.n <= cacheMaxValue {
		s.keepSmall(ctx, k, at, v)
	}
	return v, err
}

// keepSmall caches a small value just read, unless it was deleted or
// replaced meanwhile (Delete holds mu too, so one of the two sees the
// other).
func (s *Store) keepSmall(ctx context.Context, key string, at loc, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, ok := s.w.pending[key]
	if !ok {
		var err error
		if now, err = s.lookup(ctx, datastore.RawKey(key)); err != nil {
			return
		}
	}
	if now == at {
		s.small.put(key, v)
	}
}

// readPending returns a copy of a value whose end is not yet written: the
// part before the buffers from the file, the rest from the buffers in
// flight and the one being filled.
func (s *Store) readPending(at loc) ([]byte, error) {
	if at.end() > s.w.base+int64(s.w.n) { // a damaged index entry
		return nil, fmt.Errorf("packstore: index entry names bytes to %d of %s, past its end", at.end(), packName(at.pack))
	}
	out := make([]byte, 0, at.n)
	for off, end := at.off, at.end(); off < end; {
		if off >= s.w.base {
			out = append(out, s.w.buf[off-s.w.base:end-s.w.base]...)
			break
		}
		if fl := s.flightAt(off); fl != nil {
			stop := min(end, fl.end())
			out = append(out, fl.buf[off-fl.at:stop-fl.at]...)
			off = stop
			continue
		}
		// Written already: everything before the buffers is.
		stop := min(end, s.w.base)
		if len(s.w.flights) > 0 {
			stop = min(stop, s.w.flights[0].at)
		}
		head, err := s.read(loc{pack: at.pack, off: off, n: uint32(stop - off)})
		if err != nil {
			return nil, err
		}
		out = append(out, head...)
		off = stop
	}
	return out, nil
}

// flightAt is the write in flight that holds offset off of the current
// pack, or nil. Called with mu held.
func (s *Store) flightAt(off int64) *flight {
	for _, fl := range s.w.flights {
		if off >= fl.at && off < fl.end() {
			return fl
		}
	}
	return nil
}

// lookup finds key in the index.
func (s *Store) lookup(ctx context.Context, key datastore.Key) (loc, error) {
	raw, err := s.index.Get(ctx, key)
	if err != nil {
		return loc{}, err
	}
	at, err := decodeLoc(raw)
	if err != nil {
		// An entry that cannot be read is damage like a bad checksum: the
		// value reads as damaged, Has says no, and a put repairs it.
		logger.Warn("damaged index entry", "key", key, "err", err)
		return loc{summed: true, damaged: true}, nil
	}
	return at, nil
}

// readChecked reads key's value at at and checks it: against its
// checksum, or, for an entry from before checksums, with opts.Verify,
// recording its checksum once it passes. Called with packsMu held for
// reading. Damage found turns the entry into a tombstone.
func (s *Store) readChecked(key string, at loc) ([]byte, error) {
	if at.damaged {
		return nil, damagedError(key, "found damaged before; put it again to repair it")
	}
	b, err := s.read(at)
	switch {
	case err != nil && isDamage(err):
		return nil, s.damaged(key, at, err.Error())
	case err != nil:
		return nil, err
	case at.summed && checksum(b) != at.sum:
		return nil, s.damaged(key, at, "checksum mismatch")
	case at.summed || s.opts.Verify == nil:
		return b, nil
	}
	if err := s.opts.Verify(key, b); err != nil {
		return nil, s.damaged(key, at, err.Error())
	}
	s.recordSum(key, at, checksum(b))
	return b, nil
}

// isDamage tells errors that mean the bytes are gone (a pack truncated or
// removed) from those that may pass (an I/O error, a closed store).
func isDamage(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, fs.ErrNotExist)
}

func damagedError(key, why string) error {
	return fmt.Errorf("packstore: %s: %w (%s)", key, ErrDamaged, why)
}

// damaged marks key's entry, if it is still at, as a tombstone, and
// returns the error for the read that found it.
func (s *Store) damaged(key string, at loc, why string) error {
	logger.Warn("damaged value on disk", "key", key, "pack", packName(at.pack), "offset", at.off, "why", why)
	if err := s.markDamaged(context.Background(), key, at); err != nil {
		logger.Warn("could not record a damaged value", "key", key, "err", err)
	}
	return damagedError(key, why)
}

// markDamaged turns key's entry into a tombstone if it is still at.
func (s *Store) markDamaged(ctx context.Context, key string, at loc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.w.pending[key]; ok {
		return nil // a new value is on its way
	}
	now, err := s.lookup(ctx, datastore.RawKey(key))
	if err != nil || now != at {
		return nil
	}
	if err := s.index.Put(ctx, datastore.RawKey(key), at.tombstone().encode()); err != nil {
		return err
	}
	s.small.remove(key)
	s.w.unsaved = true
	s.addDead(at)
	return nil
}

// MarkDamaged records that key's value is damaged though it passed its
// checksum (its bytes do not hash to its key, found by a full verify): it
// is never returned again, and Has denies it, until it is put again.
func (s *Store) MarkDamaged(ctx context.Context, key datastore.Key) error {
	s.packsMu.RLock()
	defer s.packsMu.RUnlock()
	at, err := s.lookup(ctx, key)
	if err != nil || at.damaged {
		return err
	}
	return s.markDamaged(ctx, key.String(), at)
}

// recordSum records the checksum of an entry from before checksums, once
// its value passed Verify, if the entry is still at.
func (s *Store) recordSum(key string, at loc, sum uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := context.Background()
	if now, err := s.lookup(ctx, datastore.RawKey(key)); err != nil || now != at {
		return
	}
	at.sum, at.summed = sum, true
	if err := s.index.Put(ctx, datastore.RawKey(key), at.encode()); err != nil {
		logger.Debug("could not record a checksum", "key", key, "err", err)
		return
	}
	s.w.unsaved = true
}

// read reads a value's bytes from its pack file.
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
func (s *Store) reader(id uint32) (File, error) {
	s.readersMu.Lock()
	defer s.readersMu.Unlock()
	if f, ok := s.readers[id]; ok {
		return f, nil
	}
	f, err := s.fs.Open(packPath(s.dir, id), s.direct)
	if err != nil {
		return nil, fmt.Errorf("packstore: %w", err)
	}
	s.readers[id] = f
	return f, nil
}
