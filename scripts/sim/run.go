package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// run builds the network, adds the content, runs the lookups (under churn
// if asked) and writes the results into cfg.Out.
func run(ctx context.Context, cfg config, w io.Writer) (sum summary, err error) {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return sum, err
	}
	base, _ := rssMiB()
	s, err := newSim(cfg, w)
	if err != nil {
		return sum, err
	}
	defer func() { err = errors.Join(err, s.shutdown()) }()
	t := newPhaseClock()
	s.sampler.start(ctx)
	if err := s.build(ctx); err != nil {
		return sum, err
	}
	t.mark(&t.Build)
	s.logf("built %d peers", cfg.Peers)
	if err := sleep(ctx, cfg.Settle); err != nil {
		return sum, err
	}
	mem := measureMemory(cfg.Peers, base)
	t.mark(&t.Settle)
	s.logf("settled: %+v", s.sampler.last())
	items, err := s.publish(ctx)
	if err != nil {
		return sum, err
	}
	t.mark(&t.Publish)
	published, rt := time.Now(), s.sampler.last()
	ls, cs := s.lookupsUnderChurn(ctx, items)
	t.mark(&t.Lookups)
	samples := s.sampler.finish()
	s.logf("%d lookups done", len(ls))

	sum = summarize(cfg, ls, items)
	sum.ChurnStats, sum.RoutingTable, sum.LinksMade = cs, rt, s.net.made.Load()
	sum.OnlineMin = onlineMin(samples, s.since(published))
	_, mem.PeakRSSMiB = rssMiB()
	sum.Memory, sum.Phases, sum.Notes = mem, t.phases, notes
	if err := writeResults(cfg.Out, sum, ls, items, samples); err != nil {
		return sum, err
	}
	sum.table(w)
	return sum, nil
}

// lookupsUnderChurn runs the lookups, with the churn on if asked; the
// churning peers are all back online when it returns.
func (s *sim) lookupsUnderChurn(ctx context.Context, items []*item) ([]*lookup, churnStats) {
	if s.cfg.Churn == 0 {
		return s.runLookups(ctx, items), churnStats{}
	}
	churnCtx, stop := context.WithCancel(ctx)
	ch := s.startChurn(churnCtx)
	ls := s.runLookups(ctx, items)
	stop()
	return ls, ch.wait()
}

// phaseClock times the run's phases one after another.
type phaseClock struct {
	phases
	start, last time.Time
}

func newPhaseClock() *phaseClock {
	now := time.Now()
	return &phaseClock{start: now, last: now}
}

// mark sets *phase to the time since the previous mark, and the total.
func (c *phaseClock) mark(phase *float64) {
	now := time.Now()
	*phase = now.Sub(c.last).Seconds()
	c.Total = now.Sub(c.start).Seconds()
	c.last = now
}

// notes travel with every summary.json, so the figures are read right.
const notes = "Wall-clock times over mocknet links with the configured one-way latencies " +
	"(not scaled). success: lookups that found a provider record. hops: depth of the " +
	"query path to the first answer carrying a provider record. messages_per_lookup: " +
	"GET_PROVIDERS requests sent."

// onlineMin is the fewest peers online in the samples from fromMS on.
func onlineMin(samples []sample, fromMS float64) int {
	m := -1
	for _, smp := range samples {
		if smp.AtMS >= fromMS && (m < 0 || smp.Online < m) {
			m = smp.Online
		}
	}
	return max(m, 0)
}

func writeResults(dir string, sum summary, ls []*lookup, items []*item, samples []sample) error {
	for name, v := range map[string]any{
		"summary.json": sum, "lookups.json": ls, "content.json": items, "samples.json": samples,
	} {
		if err := writeJSON(dir, name, v); err != nil {
			return err
		}
	}
	if err := plots(dir, sum, ls, samples); err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	return nil
}
