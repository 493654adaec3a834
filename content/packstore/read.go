package packstore

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/ipfs/go-datastore"
)

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

// readPending returns a copy of a value whose end is not yet written: the
// part before the buffers from the file, the rest from the buffers in
// flight and the one being filled.
func (s *Store) readPending(at loc) ([]byte, error) {
	if at.end() > s.base+int64(s.n) { // a damaged index entry
		return nil, fmt.Errorf("packstore: index entry names bytes to %d of %s, past its end", at.end(), packName(at.pack))
	}
	out := make([]byte, 0, at.n)
	for off, end := at.off, at.end(); off < end; {
		if off >= s.base {
			out = append(out, s.buf[off-s.base:end-s.base]...)
			break
		}
		if fl := s.flightAt(off); fl != nil {
			stop := min(end, fl.end())
			out = append(out, fl.buf[off-fl.at:stop-fl.at]...)
			off = stop
			continue
		}
		// Written already: everything before the buffers is.
		stop := min(end, s.base)
		if len(s.flights) > 0 {
			stop = min(stop, s.flights[0].at)
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
	for _, fl := range s.flights {
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
