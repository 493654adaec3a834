package packstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// compactor runs a compaction at start, for what was deleted before (the
// count of deleted bytes is not kept across restarts), then each time
// enough has been deleted, until ctx ends.
func (s *Store) compactor(ctx context.Context) {
	defer close(s.done)
	s.compact <- struct{}{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.compact:
		}
		removed, err := s.Compact(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Warn("compaction failed", "err", err)
			continue
		}
		logger.Debug("compacted", "packs_removed", removed)
	}
}

// Compact rewrites the packs (other than the one being appended to) that
// are less than half live: their live values are appended anew, made
// durable with the index naming their new places, and only then are the
// old packs removed, so a crash at any point loses nothing. It returns how
// many packs it removed.
func (s *Store) Compact(ctx context.Context) (int, error) {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.deleted.Store(0)
	sizes, err := packIDs(s.dir)
	if err != nil {
		return 0, fmt.Errorf("packstore: compact: %w", err)
	}
	live := make(map[uint32]int64)
	if err := s.eachIndexed(ctx, func(_ string, at loc) error {
		live[at.pack] += int64(at.n)
		return nil
	}); err != nil {
		return 0, err
	}
	s.mu.Lock()
	cur := s.curID
	s.mu.Unlock()
	victims := make(map[uint32]bool)
	for id, size := range sizes {
		if id != cur && live[id]*2 < size {
			victims[id] = true
		}
	}
	if len(victims) == 0 {
		return 0, nil
	}
	if err := s.eachIndexed(ctx, func(key string, at loc) error {
		if !victims[at.pack] {
			return nil
		}
		return s.moveForward(ctx, key, at)
	}); err != nil {
		return 0, err
	}
	if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
		return 0, err
	}
	s.packsMu.Lock()
	defer s.packsMu.Unlock()
	var errs []error
	for id := range victims {
		if s.ra != nil {
			s.ra.dropPack(id)
		}
		s.readersMu.Lock()
		if f, ok := s.readers[id]; ok {
			errs = append(errs, f.Close())
			delete(s.readers, id)
		}
		s.readersMu.Unlock()
		errs = append(errs, os.Remove(filepath.Join(s.dir, packName(id))))
	}
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("packstore: compact: %w", err)
	}
	return len(victims), nil
}

// moveForward appends key's value again, unless key was deleted or moved
// since the index said it was at at.
func (s *Store) moveForward(ctx context.Context, key string, at loc) error {
	s.packsMu.RLock()
	value, err := s.read(at)
	s.packsMu.RUnlock()
	if err != nil {
		return fmt.Errorf("packstore: compact: %w", err)
	}
	s.lockAll()
	defer s.unlockAll()
	if _, ok := s.pending[key]; ok {
		return nil
	}
	now, err := s.lookup(ctx, datastore.RawKey(key))
	if errors.Is(err, datastore.ErrNotFound) || (err == nil && now != at) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.putLocked(key, value)
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
