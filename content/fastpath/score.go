package fastpath

import (
	"errors"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Penalties a peer takes, and how they fade. A peer whose penalty is at
// least penalized is tried after the others: it takes no part of a range
// another peer streams, only ranges nobody streams and, near the end,
// copies of what is still outstanding (see Job.claim).
const (
	penaltySlow  = 1.0 // overtaken on its own range near the end
	penaltyStall = 1.0 // delivered nothing for StallTimeout
	penaltyBad   = 2.0 // sent a wrong, extra or out-of-order block
	penalized    = 0.5
	// scoreHalfLife is how long a penalty takes to halve: a peer that
	// stalled once is tried last for about one half-life, and forgiven
	// after a few.
	scoreHalfLife = 10 * time.Minute
	maxScores     = 4096
)

// scores remembers peers that stalled or sent bad blocks, for later
// fetches. Its methods are safe for concurrent use.
type scores struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[peer.ID]score
}

// score is a penalty as it stood at a moment.
type score struct {
	penalty float64
	at      time.Time
}

func newScores(now func() time.Time) *scores {
	return &scores{now: now, m: make(map[peer.ID]score)}
}

// decayed is s's penalty at t.
func (s score) decayed(t time.Time) float64 {
	age := t.Sub(s.at)
	if age <= 0 {
		return s.penalty
	}
	return s.penalty * math.Exp2(-float64(age)/float64(scoreHalfLife))
}

// add gives p a penalty of v on top of what is left of its earlier ones.
func (s *scores) add(p peer.ID, v float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now()
	if _, ok := s.m[p]; !ok && len(s.m) >= maxScores {
		s.forgetLocked(t)
	}
	s.m[p] = score{penalty: s.m[p].decayed(t) + v, at: t}
}

// forgetLocked drops the penalties that have faded below a tenth of
// penalized, or all of them when none has: peers come and go, and one
// forgotten costs at most one more stall.
func (s *scores) forgetLocked(t time.Time) {
	for p, sc := range s.m {
		if sc.decayed(t) < penalized/10 {
			delete(s.m, p)
		}
	}
	if len(s.m) >= maxScores {
		clear(s.m)
	}
}

// penalty is p's penalty now.
func (s *scores) penalty(p peer.ID) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[p].decayed(s.now())
}

// isPenalized reports whether p is to be tried after the others.
func (s *scores) isPenalized(p peer.ID) bool { return s.penalty(p) >= penalized }

// rank orders peers from the least penalized to the most, keeping the
// order of peers with equal penalties.
func (s *scores) rank(peers []peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now()
	slices.SortStableFunc(peers, func(a, b peer.ID) int {
		pa, pb := s.m[a].decayed(t), s.m[b].decayed(t)
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
}

// penaltyFor is what a stream's failure costs its peer: more for bad
// data than for a stall or a broken stream.
func penaltyFor(err error) float64 {
	if errors.Is(err, trustless.ErrBadBlock) || errors.Is(err, trustless.ErrUnexpectedBlock) {
		return penaltyBad
	}
	return penaltyStall
}
