package packstore

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/ipfs/go-datastore"
)

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

// maxInflight is how many buffer writes may be in flight at once. With
// one, a 1 GiB add on this VM waited 260-350 ms in all for the device (a
// single direct write stream runs about 1 GB/s here, the add 0.7); with
// two, 45-110 ms. The add's time did not move on an idle machine, where
// it is bound by CPU; the second write is for a device that stalls.
const maxInflight = 2

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
	for len(s.flights) >= maxInflight && s.writeErr == nil {
		s.flushed.Wait()
	}
	if s.writeErr != nil {
		return s.writeErr
	}
	next, err := s.freeBuffer()
	if err != nil {
		return err
	}
	fl := &flight{buf: s.buf, at: s.base, id: s.curID}
	s.flights = append(s.flights, fl)
	s.buf = next
	s.base += int64(len(fl.buf))
	s.n = 0
	f := s.cur
	s.writes.Go(func() {
		_, err := f.WriteAt(fl.buf, fl.at)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.finishWrite(fl, err)
	})
	return nil
}

// freeBuffer returns a spare buffer, or a new one while fewer than
// maxInflight+1 exist.
func (s *Store) freeBuffer() ([]byte, error) {
	if n := len(s.spares); n > 0 {
		b := s.spares[n-1]
		s.spares = s.spares[:n-1]
		return b, nil
	}
	b, err := newWriteBuffer(s.opts.BufferSize)
	if err != nil {
		return nil, fmt.Errorf("packstore: write buffer: %w", err)
	}
	return b, nil
}

// finishWrite, under mu, records the end of a buffer write. Writes may
// end out of order: the pack counts as written, and its values go into
// the index, only up to the first write still in flight. A failed write
// forgets the values not wholly before it (those before it are still
// indexed as their writes end), and the store refuses further writes.
func (s *Store) finishWrite(fl *flight, err error) {
	defer s.flushed.Broadcast()
	fl.done, fl.err = true, err
	if err != nil && s.writeErr == nil {
		s.writeErr = fmt.Errorf("packstore: write %s: %w", packName(fl.id), err)
		for _, r := range s.order {
			if r.at.end() > fl.at && s.pending[r.key] == r.at {
				delete(s.pending, r.key)
				s.small.remove(r.key)
			}
		}
	}
	for len(s.flights) > 0 && s.flights[0].done {
		done := s.flights[0]
		s.flights = s.flights[1:]
		s.spares = append(s.spares, done.buf)
		// The pack is written up to here only if this write and every
		// one before it succeeded: written stops where one failed.
		if done.err != nil || s.written.Load() != done.at {
			continue
		}
		s.written.Store(done.end())
		if err := s.indexWritten(done.end()); err != nil && s.writeErr == nil {
			s.writeErr = err
		}
	}
}

// waitWrite waits, under mu, until no buffer write is in flight.
func (s *Store) waitWrite() error {
	for len(s.flights) > 0 {
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
