package main

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// churnStats counts what the churning peers did.
type churnStats struct {
	Churners int   `json:"churners"`
	Leaves   int64 `json:"leaves"`
	Joins    int64 `json:"joins"`
	Failed   int64 `json:"failed_joins"`
}

// churner runs the churning peers: each alternates online and offline
// sessions of exponentially distributed length (means Session and
// Downtime). A departing peer is closed, host and all; a returning one is
// rebuilt with the same key and datastore, and rejoins through its
// bootstrap and remembered peers as a restarted daemon does.
type churner struct {
	s      *sim
	leaves atomic.Int64
	joins  atomic.Int64
	failed atomic.Int64
	n      int
	wg     sync.WaitGroup
}

// startChurn picks round(Churn × N) non-seed peers and starts their
// sessions; the churn ends with ctx, and wait returns once every churning
// peer is back online.
func (s *sim) startChurn(ctx context.Context) *churner {
	c := &churner{s: s}
	count := int(s.cfg.Churn*float64(len(s.nodes)) + 0.5)
	for _, idx := range s.perm(len(s.nodes)) {
		if c.n == count {
			break
		}
		n := s.nodes[idx]
		if n.seed {
			continue
		}
		n.churner = true
		c.n++
		rng := rand.New(rand.NewPCG(uint64(s.cfg.Seed), uint64(idx)+1))
		c.wg.Go(func() { c.sessions(ctx, n, rng) })
	}
	return c
}

func (c *churner) sessions(ctx context.Context, n *node, rng *rand.Rand) {
	exp := func(mean time.Duration) time.Duration { return time.Duration(rng.ExpFloat64() * float64(mean)) }
	for {
		if sleep(ctx, exp(c.s.cfg.Session)) != nil {
			return
		}
		if err := n.stop(c.s); err != nil {
			c.s.logf("churn: node %d left with error: %v", n.idx, err)
		}
		c.leaves.Add(1)
		err := sleep(ctx, exp(c.s.cfg.Downtime))
		// Back online even when the run ends, so the end state is whole.
		if jerr := n.start(context.Background(), c.s); jerr != nil {
			c.failed.Add(1)
			c.s.logf("churn: node %d failed to rejoin: %v", n.idx, jerr)
		}
		c.joins.Add(1)
		if err != nil {
			return
		}
	}
}

// wait returns once every churning goroutine ended, with the counts.
func (c *churner) wait() churnStats {
	c.wg.Wait()
	return churnStats{Churners: c.n, Leaves: c.leaves.Load(), Joins: c.joins.Load(), Failed: c.failed.Load()}
}
