package replication

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// round is one look at root's record by this peer. The leader checks
// every holder and repairs; any other holder only makes sure that someone
// before it in line leads, taking the newer record it hears of.
func (s *Service) round(ctx context.Context, root cid.Cid) {
	rec := s.snapshot(root)
	if rec == nil {
		return
	}
	next := s.jittered()
	defer func() { s.finish(root, next) }()
	switch {
	case rec.Factor == 0:
		s.expire(ctx, rec)
		return
	case rec.holder(s.self) == nil && rec.Origin == s.self:
		// The origin's copy is its user's pin: it stays a holder.
		s.relist(root)
	case rec.holder(s.self) == nil:
		// A newer record left this peer out: its copy is surplus.
		s.logErr("drop", root, s.drop(ctx, root))
		return
	}
	if rec.Origin == s.self && !s.canLead(ctx, root) {
		// The user's pin lost blocks (a crash before they reached the
		// disk): fetch them back from the holders.
		s.logErr("restore the origin's copy", root, s.fetchNow(ctx, root, 0))
	}
	lead, newer := s.elect(ctx, rec)
	if newer != nil {
		s.adopt(newer)
		next = 0
		return
	}
	if lead {
		next = s.lead(ctx, rec)
	}
}

// relist puts this peer back among root's holders.
func (s *Service) relist(root cid.Cid) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[root]; r != nil && r.holder(s.self) == nil {
		r.Holders = append(r.Holders, &Holder{Peer: s.self, Live: true, LastSeen: s.cfg.now()})
		s.saveLocked(r)
	}
}

func (s *Service) snapshot(root cid.Cid) *Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[root]; r != nil {
		return r.clone()
	}
	return nil
}

// finish schedules root's next round.
func (s *Service) finish(root cid.Cid, next time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[root]; r != nil {
		r.busy = false
		r.due = s.cfg.now().Add(next)
	}
}

// expire handles a released pin: a holder drops its copy at once; the
// origin keeps the record ForgetAfter, to tell holders that were away.
func (s *Service) expire(ctx context.Context, rec *Record) {
	if rec.Origin != s.self || s.cfg.now().Sub(rec.Changed) > s.cfg.ForgetAfter {
		s.logErr("drop", rec.Root, s.drop(ctx, rec.Root))
	}
}

// elect says whether this peer leads rec's repair: the first in line
// (leaders) that holds the root leads. A peer that lost its copy (a crash
// before its blocks reached the disk) cannot challenge others, and steps
// aside.
func (s *Service) elect(ctx context.Context, rec *Record) (bool, *Record) {
	for _, p := range leaders(rec.Root, rec.Origin, rec.peers()) {
		if p == s.self {
			if s.canLead(ctx, rec.Root) {
				return true, nil
			}
			continue
		}
		resp, err := s.send(ctx, p, rootRequest(kindCheck, rec.Root))
		if ctx.Err() != nil {
			// Closing: nobody answers a peer on its way out.
			return false, nil
		}
		if err != nil {
			continue
		}
		if newer := newerRecord(rec, resp); newer != nil {
			return false, newer
		}
		if resp.Held {
			return false, nil
		}
	}
	return false, nil
}

// canLead says whether this peer holds enough of root to challenge others:
// a random path from the root to a leaf, read from its store.
func (s *Service) canLead(ctx context.Context, root cid.Cid) bool {
	_, err := newChallenge(ctx, s.store, root)
	return err == nil
}

func newerRecord(rec *Record, resp *response) *Record {
	if resp == nil || resp.Record == nil || resp.Record.Serial <= rec.Serial {
		return nil
	}
	newer, err := fromWire(rec.Root, resp.Record)
	if err != nil {
		return nil
	}
	return newer
}

// adopt takes a newer record heard from a peer.
func (s *Service) adopt(newer *Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.records[newer.Root]; cur != nil && newer.Serial > cur.Serial {
		s.adoptLocked(cur, newer)
		s.saveLocked(cur)
	}
}

// checkResult is what checking one holder found.
type checkResult struct {
	peer  peer.ID
	err   error // nil: proved
	liar  bool  // answered, and failed the proof
	gone  bool  // did not answer
	newer *Record
}

// lead checks rec's holders, replaces the lost, releases the surplus and
// tells the holders of any change. It returns when to look again.
func (s *Service) lead(ctx context.Context, rec *Record) time.Duration {
	base := rec.Serial
	results, err := s.checkAll(ctx, rec)
	if ctx.Err() != nil {
		return 0
	}
	if err != nil {
		logger().Warn("replication: cannot check holders", "root", rec.Root, "err", err)
		return s.jittered()
	}
	for _, r := range results {
		if r.newer != nil {
			s.adopt(r.newer)
			return 0
		}
	}
	changed := s.apply(ctx, rec, results)
	if live := rec.live(); live < rec.Factor {
		changed = s.repair(ctx, rec, rec.Factor-live) || changed
	} else if live > rec.Factor {
		changed = s.trim(ctx, rec) || changed
	}
	if changed {
		rec.Serial++
		rec.Changed = s.cfg.now()
		s.push(ctx, rec)
	}
	return s.commit(rec, base)
}

// checkAll challenges every holder at once, this peer included (it reads
// its own store).
func (s *Service) checkAll(ctx context.Context, rec *Record) ([]checkResult, error) {
	now := s.cfg.now()
	var (
		mu  sync.Mutex
		out []checkResult
		wg  sync.WaitGroup
	)
	for _, h := range rec.Holders {
		if h.Peer == s.self || h.next.After(now) {
			continue
		}
		ch, err := newChallenge(ctx, s.store, rec.Root)
		if err != nil {
			return nil, err
		}
		want, err := prove(ctx, s.store, ch)
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			r := s.check(ctx, rec, h.Peer, ch, want)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	_, err := s.store.Block(ctx, rec.Root)
	out = append(out, checkResult{peer: s.self, err: err})
	return out, nil
}

func (s *Service) check(ctx context.Context, rec *Record, p peer.ID, ch challenge, want []byte) checkResult {
	req := rootRequest(kindCheck, rec.Root)
	req.Block, req.Nonce = ch.Block.Bytes(), ch.Nonce
	resp, err := s.send(ctx, p, req)
	if err != nil {
		return checkResult{peer: p, err: err, gone: !isRefused(err), liar: isRefused(err)}
	}
	r := checkResult{peer: p, newer: newerRecord(rec, resp), err: checkProof(resp, want)}
	r.liar = resp.Held && r.err != nil
	return r
}

// apply records what the checks found. A holder that answered without
// holding, or failed the proof, is no longer one (a liar is released and
// not asked again for a while); one that did not answer stays, checked
// less often, until ForgetAfter. It says whether the holders changed.
func (s *Service) apply(ctx context.Context, rec *Record, results []checkResult) bool {
	changed := false
	for _, r := range results {
		if h := rec.holder(r.peer); h != nil && s.applyOne(ctx, rec, h, r) {
			rec.remove(r.peer)
			changed = true
		}
	}
	return changed
}

// applyOne records one check in h and says whether h is to go.
func (s *Service) applyOne(ctx context.Context, rec *Record, h *Holder, r checkResult) bool {
	now := s.cfg.now()
	h.Live, h.Err = r.err == nil, errString(r.err)
	switch {
	case r.err == nil:
		h.LastProved, h.LastSeen, h.failures, h.next = now, now, 0, time.Time{}
	case r.peer == s.self:
		// This peer's own copy is gone; the origin's comes back with
		// its user's pin, a holder's with the next repair.
	case r.gone:
		h.failures++
		h.next = now.Add(s.backoff(h.failures))
		return now.Sub(h.LastSeen) > s.cfg.ForgetAfter
	default:
		logger().Info("replication: holder replaced", "root", rec.Root, "peer", r.peer, "err", r.err)
		if r.liar {
			s.penalize(r.peer, s.cfg.MaxBackoff)
			s.release(ctx, rec.Root, r.peer)
		}
		return true
	}
	return false
}

// repair asks the closest peers that do not hold rec's root yet, need at
// a time, until need of them hold it or none is left to ask.
func (s *Service) repair(ctx context.Context, rec *Record, need int) bool {
	cands := candidates(rec.Root, s.peers(), rec.peers(), s.skip)
	added := false
	for need > 0 && len(cands) > 0 {
		batch := cands[:min(need, len(cands))]
		cands = cands[len(batch):]
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, p := range batch {
			wg.Go(func() { errs[i] = s.askHold(ctx, rec, p) })
		}
		wg.Wait()
		for i, p := range batch {
			if s.noteHold(rec, p, errs[i]) {
				need--
				added = true
			}
		}
	}
	return added
}

// askHold asks p to hold rec's root, one of at most max_repairs at once.
func (s *Service) askHold(ctx context.Context, rec *Record, p peer.ID) error {
	select {
	case s.repairs <- struct{}{}:
		defer func() { <-s.repairs }()
	case <-ctx.Done():
		return ctx.Err()
	}
	req := rootRequest(kindHold, rec.Root)
	req.Record = rec.toWire()
	_, err := s.send(ctx, p, req)
	return err
}

// noteHold records p's answer to a hold and says whether p holds.
func (s *Service) noteHold(rec *Record, p peer.ID, err error) bool {
	now := s.cfg.now()
	if err == nil {
		delete(rec.refusals, p)
		rec.Holders = append(rec.Holders, &Holder{Peer: p, Live: true, LastProved: now, LastSeen: now})
		return true
	}
	if rec.refusals == nil {
		rec.refusals = make(map[peer.ID]string)
	}
	var refused *RefusedError
	if errors.As(err, &refused) {
		rec.refusals[p] = refused.Reason
	} else {
		rec.refusals[p] = err.Error()
	}
	logger().Info("replication: peer would not hold", "root", rec.Root, "peer", p, "err", err)
	s.penalize(p, s.backoff(1))
	return false
}

// trim releases the live holders past the factor, farthest first.
func (s *Service) trim(ctx context.Context, rec *Record) bool {
	var live []peer.ID
	for _, h := range rec.Holders {
		if h.Live {
			live = append(live, h.Peer)
		}
	}
	extra := surplus(rec.Root, live, rec.Factor, rec.Origin, s.self)
	for _, p := range extra {
		s.release(ctx, rec.Root, p)
		rec.remove(p)
	}
	return len(extra) > 0
}

// release tells p to stop holding root, once; a peer that does not hear it
// learns from the newer record later.
func (s *Service) release(ctx context.Context, root cid.Cid, p peer.ID) {
	if _, err := s.send(ctx, p, rootRequest(kindRelease, root)); err != nil {
		logger().Debug("replication: release not heard", "root", root, "peer", p, "err", err)
	}
}

// push sends the changed record to every live holder.
func (s *Service) push(ctx context.Context, rec *Record) {
	var wg sync.WaitGroup
	for _, h := range rec.Holders {
		if h.Live && h.Peer != s.self {
			wg.Go(func() {
				req := rootRequest(kindHold, rec.Root)
				req.Record = rec.toWire()
				if _, err := s.send(ctx, h.Peer, req); err != nil {
					logger().Debug("replication: record not pushed", "root", rec.Root, "peer", h.Peer, "err", err)
				}
			})
		}
	}
	wg.Wait()
}

// commit stores the record a round worked on, unless a newer one came in
// meanwhile, and returns when to look again: later after rounds that
// could not reach the factor.
func (s *Service) commit(rec *Record, base uint64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.records[rec.Root]
	if cur == nil || cur.Serial != base {
		return 0
	}
	if rec.live() < rec.Factor {
		rec.fails = cur.fails + 1
	} else {
		rec.fails = 0
	}
	rec.busy = true
	s.records[rec.Root] = rec
	s.saveLocked(rec)
	if rec.fails > 0 {
		return s.backoff(rec.fails)
	}
	return s.jittered()
}

// backoff doubles the check interval with each failure, up to max_backoff.
func (s *Service) backoff(failures int) time.Duration {
	d := s.cfg.CheckInterval
	for i := 1; i < failures && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.cfg.MaxBackoff)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *Service) logErr(what string, root cid.Cid, err error) {
	if err != nil {
		logger().Warn("replication: "+what, "root", root, "err", err)
	}
}
