package replication

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrNotReplicated is returned for a root this peer has no record of, or
// did not pin itself.
var ErrNotReplicated = errors.New("not replicated from this peer")

// Status is what a peer knows of one replicated root. At the root's
// leader (its origin, while it lives) the holders' figures are the last
// checks'; other holders only know the record.
type Status struct {
	Root   cid.Cid
	Factor int
	Origin peer.ID
	// Replica says this peer holds Root for its origin.
	Replica bool
	// Live counts the holders the last checks proved.
	Live     int
	Holders  []Holder
	Refusals []Refusal
}

// Refusal is a peer's answer to "hold this" that was not yes.
type Refusal struct {
	Peer   peer.ID
	Reason string
}

// Replicate makes this peer the origin of root, already pinned here, with
// factor copies wanted (this one included), and asks the first holders
// before it returns; the repair loop does the rest. Calling it again
// changes the factor.
func (s *Service) Replicate(ctx context.Context, root cid.Cid, factor int) (Status, error) {
	if factor < 1 || factor > MaxFactor {
		return Status{}, fmt.Errorf("replicate %s: factor must be between 1 and %d, got %d", root, MaxFactor, factor)
	}
	size, err := s.store.Size(ctx, root)
	if err != nil {
		return Status{}, fmt.Errorf("replicate %s: %w", root, err)
	}
	if err := s.originate(root, factor, size); err != nil {
		return Status{}, err
	}
	s.roundNow(ctx, root)
	return s.Status(root)
}

// originate creates or updates the record of a root this peer pins.
func (s *Service) originate(root cid.Cid, factor int, size uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	cur := s.records[root]
	if cur != nil && cur.Factor > 0 && cur.Origin != s.self {
		return fmt.Errorf("replicate %s: already replicated by %s (%d copies)", root, cur.Origin, cur.Factor)
	}
	if cur == nil || cur.Factor == 0 {
		serial := uint64(0)
		if cur != nil {
			serial = cur.Serial
		}
		cur = &Record{Root: root, Serial: serial, Origin: s.self, Holders: []*Holder{{Peer: s.self, Live: true, LastProved: now, LastSeen: now}}}
		s.records[root] = cur
	}
	cur.Serial++
	cur.Factor, cur.Size, cur.Changed = factor, size, now
	s.saveLocked(cur)
	return nil
}

// roundNow runs root's round in the caller's goroutine, unless one runs
// already; ctx or Close ends it.
func (s *Service) roundNow(ctx context.Context, root cid.Cid) {
	s.mu.Lock()
	r := s.records[root]
	if r == nil || r.busy {
		s.mu.Unlock()
		return
	}
	r.busy = true
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.life, cancel)()
	s.round(ctx, root)
}

// Unreplicate releases the copies this peer asked for. The record stays,
// released, for ForgetAfter, so that holders away now learn of it later.
// The local pin is the caller's to remove.
func (s *Service) Unreplicate(ctx context.Context, root cid.Cid) error {
	rec := s.snapshot(root)
	if rec == nil || rec.Origin != s.self || rec.Factor == 0 {
		return fmt.Errorf("unreplicate %s: %w", root, ErrNotReplicated)
	}
	var wg sync.WaitGroup
	for _, h := range rec.Holders {
		if h.Peer != s.self {
			wg.Go(func() { s.release(ctx, root, h.Peer) })
		}
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.records[root]; cur != nil {
		cur.Serial++
		cur.Factor, cur.Changed = 0, s.cfg.now()
		cur.Holders = []*Holder{{Peer: s.self, LastSeen: cur.Changed}}
		s.saveLocked(cur)
	}
	return nil
}

// Status reports what this peer knows of root.
func (s *Service) Status(root cid.Cid) (Status, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[root]
	if r == nil || r.Factor == 0 {
		return Status{}, fmt.Errorf("status %s: %w", root, ErrNotReplicated)
	}
	return s.statusLocked(r), nil
}

func (s *Service) statusLocked(r *Record) Status {
	st := Status{Root: r.Root, Factor: r.Factor, Origin: r.Origin, Replica: r.Origin != s.self, Live: r.live()}
	for _, h := range r.Holders {
		st.Holders = append(st.Holders, *h)
	}
	for _, p := range slices.Sorted(maps.Keys(r.refusals)) {
		st.Refusals = append(st.Refusals, Refusal{Peer: p, Reason: r.refusals[p]})
	}
	return st
}

// List reports every root this peer replicates or holds for others.
func (s *Service) List() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Status, 0, len(s.records))
	for _, r := range s.records {
		if r.Factor > 0 {
			out = append(out, s.statusLocked(r))
		}
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(a.Root.KeyString(), b.Root.KeyString()) })
	return out
}

// CheckNow makes every record due at once (tests, and an operator who
// wants a look now).
func (s *Service) CheckNow() {
	s.mu.Lock()
	now := s.cfg.now()
	for _, r := range s.records {
		r.due = now
	}
	s.mu.Unlock()
	s.poke()
}
