package packstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// compactor runs a compaction at start, for what was deleted before (the
// count of deleted bytes is not kept across restarts), then each time
// enough has been deleted, until ctx ends.
func (s *Store) compactor(ctx context.Context) {
	defer close(s.done)
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-s.compact:
			}
		}
		removed, err := s.Compact(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("compaction failed", "err", err)
			continue
		}
		logger.Debug("compacted", "packs_removed", removed)
	}
}

// Compact frees the space of dead values, in the order that needs the
// least room first, so that it works on a full disk: the pack being
// appended to is sealed if it is mostly dead; packs with nothing live are
// removed outright; then the packs less than half live are rewritten one
// at a time, each only if the disk has room for its live values: they
// are appended anew, made durable with the index naming their new places,
// and only then is the old pack removed, so a crash at any point loses
// nothing. A pack there is no room to rewrite has the space of its dead
// bytes freed in place (holes punched), to be rewritten once there is.
// Values found damaged on the way become tombstones. It returns how many
// packs it removed.
func (s *Store) Compact(ctx context.Context) (int, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.deleted.Store(0)
	if err := s.sealMostlyDead(ctx); err != nil {
		logger.Warn("compaction could not seal the current pack", "err", err)
	}
	// The pack being appended to, and any started after this, may hold
	// values not yet indexed: they are left alone. Older ones are sealed,
	// every value in them indexed.
	s.mu.Lock()
	sealed := s.w.nextID
	if s.w.cur != nil {
		sealed = s.w.curID
	}
	s.mu.Unlock()
	sizes, err := packIDs(s.fs, s.dir)
	if err != nil {
		return 0, fmt.Errorf("packstore: compact: %w", err)
	}
	live, err := s.liveBytes(ctx)
	if err != nil {
		return 0, err
	}
	var dead, victims []uint32
	for id, size := range sizes {
		switch {
		case id >= sealed:
		case live[id] == 0:
			dead = append(dead, id)
		case worthRewriting(size, live[id], s.opts.BufferSize):
			victims = append(victims, id)
		}
	}
	removed, err := s.removeDead(ctx, dead)
	if err != nil {
		return removed, err
	}
	// The most dead bytes first: the most space for the least copying.
	slices.SortFunc(victims, func(a, b uint32) int { return cmp.Compare(sizes[b]-live[b], sizes[a]-live[a]) })
	for _, id := range victims {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		ok, err := s.rewrite(ctx, id, sizes[id], live[id])
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	return removed, nil
}

// worthRewriting says whether a pack of size bytes, live of them live, is
// worth compacting: less than half live, and at least a buffer to gain
// (the last, small pack of a store would be rewritten at every start).
func worthRewriting(size, live int64, buffer int) bool {
	return live*2 < size && size-live >= int64(buffer)
}

// sealMostlyDead seals the pack being appended to if compacting it is
// worth it, so that it can be: on a disk smaller than a pack, or after a
// collection of what was just added, the dead bytes are all there. Where
// the disk has no room even to seal it, the dead bytes it has on disk are
// freed in place.
func (s *Store) sealMostlyDead(ctx context.Context) error {
	s.mu.Lock()
	id, gen := s.w.curID, s.w.indexed
	open := s.w.cur != nil
	s.mu.Unlock()
	if !open {
		return nil
	}
	live, err := s.liveSpans(ctx, id)
	if err != nil {
		return err
	}
	holes, sealErr := s.sealOr(id, gen, live)
	if len(holes) == 0 {
		return sealErr
	}
	if err := s.index.Sync(ctx, datastore.NewKey("/")); err != nil {
		return errors.Join(sealErr, err)
	}
	return errors.Join(sealErr, s.punchHoles(id, holes))
}

// sealOr seals pack id if it is still the one appended to, nothing was
// indexed since gen, and it is worth compacting. If sealing fails, it
// returns instead the holes to punch in the part already on disk: the
// spans that neither live (the indexed values) nor a pending value
// touches.
func (s *Store) sealOr(id uint32, gen uint64, live []span) ([]span, error) {
	s.lockAll()
	defer s.unlockAll()
	if s.w.cur == nil || s.w.curID != id || s.w.indexed != gen {
		return nil, nil // values moved from pending to the index meanwhile: next time
	}
	var bytes int64
	for _, l := range live {
		bytes += l.n
	}
	for _, at := range s.w.pending {
		live = append(live, span{at.off, int64(at.n)})
		bytes += int64(at.n)
	}
	if !worthRewriting(s.w.base+int64(s.w.n), bytes, s.opts.BufferSize) {
		return nil, nil
	}
	err := s.rotate()
	if err == nil {
		return nil, nil
	}
	// Below written, the pack never changes again.
	return holesBetween(live, s.written.Load()&^(align-1), s.minHole()), err
}

// liveBytes sums the values each pack holds, from the index.
func (s *Store) liveBytes(ctx context.Context) (map[uint32]int64, error) {
	live := make(map[uint32]int64)
	err := s.eachIndexed(ctx, func(_ string, at loc) error {
		if !at.damaged {
			live[at.pack] += int64(at.n)
		}
		return nil
	})
	return live, err
}

// removeDead removes packs that nothing in the index names, once the
// index is durable: an index entry that a crash brought back would name
// a pack that is gone.
func (s *Store) removeDead(ctx context.Context, ids []uint32) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	if err := s.index.Sync(ctx, datastore.NewKey("/")); err != nil {
		return 0, fmt.Errorf("packstore: compact: sync index: %w", err)
	}
	if err := s.removePacks(ids); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// rewrite moves pack id's live values forward and removes it, if the
// disk has room for them (reporting false otherwise, after punching out
// its dead bytes). A value that cannot be read for a reason other than
// damage keeps the pack.
func (s *Store) rewrite(ctx context.Context, id uint32, size, live int64) (bool, error) {
	free, err := s.fs.Free(s.dir)
	if err == nil && free < uint64(live)+uint64(s.opts.Reserve)/2 {
		logger.Info("compaction frees a pack's dead bytes in place: too little free space to move its live values",
			"pack", packName(id), "live", live, "free", free)
		return false, s.punch(ctx, id, size)
	}
	kept := false
	err = s.eachIndexed(ctx, func(key string, at loc) error {
		if at.pack != id || at.damaged {
			return nil
		}
		moveErr := s.moveForward(ctx, key, at)
		if moveErr != nil && !errors.Is(moveErr, ErrDamaged) {
			logger.Warn("compaction keeps a pack it could not read", "pack", packName(id), "err", moveErr)
			kept = true
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	if kept {
		return false, nil
	}
	if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
		return false, err
	}
	return true, s.removePacks([]uint32{id})
}

// liveSpans lists where pack id's live values are, from the index.
func (s *Store) liveSpans(ctx context.Context, id uint32) ([]span, error) {
	var live []span
	err := s.eachIndexed(ctx, func(_ string, at loc) error {
		if at.pack == id && !at.damaged {
			live = append(live, span{at.off, int64(at.n)})
		}
		return nil
	})
	return live, err
}

// punch frees the space of sealed pack id's dead bytes without moving
// anything: the aligned spans no live value touches become holes. The
// index is synced first, so that no entry a crash brought back names a
// hole.
func (s *Store) punch(ctx context.Context, id uint32, size int64) error {
	live, err := s.liveSpans(ctx, id)
	if err != nil {
		return err
	}
	holes := holesBetween(live, roundUp(size), s.minHole())
	if len(holes) == 0 {
		return nil
	}
	if err := s.index.Sync(ctx, datastore.NewKey("/")); err != nil {
		return fmt.Errorf("packstore: compact: sync index: %w", err)
	}
	return s.punchHoles(id, holes)
}

// punchHoles frees the space of the given dead spans of pack id.
func (s *Store) punchHoles(id uint32, holes []span) error {
	s.packsMu.Lock()
	defer s.packsMu.Unlock()
	if s.ra != nil {
		s.ra.dropPack(id) // chunks read before hold the bytes now gone
	}
	err := s.fs.PunchHoles(packPath(s.dir, id), holes)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("packstore: compact: free dead bytes of %s: %w", packName(id), err)
	}
	return nil
}

func (s *Store) minHole() int64 { return min(maxMinHole, int64(s.opts.BufferSize)) }

// maxMinHole bounds the smallest hole worth punching: a buffer, or 64 KiB.
const maxMinHole = 64 << 10

// holesBetween returns the aligned spans of [0, end) that no live span
// touches, of minHole bytes or more.
func holesBetween(live []span, end, minHole int64) []span {
	slices.SortFunc(live, func(a, b span) int { return cmp.Compare(a.off, b.off) })
	var holes []span
	from := int64(0)
	for _, l := range append(live, span{end, 0}) {
		start, stop := roundUp(from), l.off&^(align-1)
		if stop-start >= minHole {
			holes = append(holes, span{start, stop - start})
		}
		from = max(from, l.off+l.n)
	}
	return holes
}

// errStop ends a walk of the index early.
var errStop = errors.New("stop")

// removePacks removes packs, closing them first.
func (s *Store) removePacks(ids []uint32) error {
	s.packsMu.Lock()
	defer s.packsMu.Unlock()
	var errs []error
	for _, id := range ids {
		if s.ra != nil {
			s.ra.dropPack(id)
		}
		s.readersMu.Lock()
		if f, ok := s.readers[id]; ok {
			errs = append(errs, f.Close())
			delete(s.readers, id)
		}
		s.readersMu.Unlock()
		errs = append(errs, s.fs.Remove(packPath(s.dir, id)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("packstore: compact: %w", err)
	}
	return nil
}

// moveForward appends key's value again, unless key was deleted or moved
// since the index said it was at at. A damaged value gives ErrDamaged,
// and is left a tombstone.
func (s *Store) moveForward(ctx context.Context, key string, at loc) error {
	s.packsMu.RLock()
	value, err := s.readChecked(key, at)
	s.packsMu.RUnlock()
	if err != nil {
		return fmt.Errorf("packstore: compact: %w", err)
	}
	s.lockAll()
	defer s.unlockAll()
	if _, ok := s.w.pending[key]; ok {
		return nil
	}
	// The entry may have gained its checksum since (recordSum): the same
	// place is the same value.
	now, err := s.lookup(ctx, datastore.RawKey(key))
	if errors.Is(err, datastore.ErrNotFound) || (err == nil && (now.pack != at.pack || now.off != at.off || now.damaged)) {
		return nil
	}
	if err != nil {
		return err
	}
	sum := now.sum
	if !now.summed {
		sum = checksum(value) // verified by readChecked
	}
	return s.putLocked(key, value, sum, false)
}

// eachIndexed calls fn for every key in the index and its place.
func (s *Store) eachIndexed(ctx context.Context, fn func(key string, at loc) error) error {
	res, err := s.index.Query(ctx, query.Query{})
	if err != nil {
		return fmt.Errorf("packstore: scan index: %w", err)
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return fmt.Errorf("packstore: scan index: %w", r.Error)
		}
		at, err := decodeLoc(r.Value)
		if err != nil {
			return fmt.Errorf("packstore: %s: %w", r.Key, err)
		}
		if err := fn(r.Key, at); err != nil {
			return err
		}
	}
	return ctx.Err()
}
