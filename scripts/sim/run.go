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
	t0 := time.Now()
	s.sampler.start(ctx)
	if err := s.build(ctx); err != nil {
		return sum, err
	}
	tBuild := time.Now()
	s.logf("built %d peers", cfg.Peers)
	if err := sleep(ctx, cfg.Settle); err != nil {
		return sum, err
	}
	mem := measureMemory(cfg.Peers, base)
	tSettle := time.Now()
	s.logf("settled: %+v", s.sampler.last())
	items, err := s.publish(ctx)
	if err != nil {
		return sum, err
	}
	tPublish := time.Now()
	rt := s.sampler.last()

	churnCtx, stopChurn := context.WithCancel(ctx)
	var ch *churner
	if cfg.Churn > 0 {
		ch = s.startChurn(churnCtx)
	}
	ls := s.runLookups(ctx, items)
	stopChurn()
	tLookups := time.Now()
	var cs churnStats
	if ch != nil {
		cs = ch.wait()
	}
	samples := s.sampler.finish()
	s.logf("%d lookups done", len(ls))

	sum = summarize(cfg, ls, items)
	sum.ChurnStats = cs
	sum.OnlineMin = onlineMin(samples, s.since(tPublish))
	sum.RoutingTable = rt
	sum.LinksMade = s.net.made.Load()
	_, peak := rssMiB()
	mem.PeakRSSMiB = peak
	sum.Memory = mem
	sum.Phases = phases{
		Build: tBuild.Sub(t0).Seconds(), Settle: tSettle.Sub(tBuild).Seconds(),
		Publish: tPublish.Sub(tSettle).Seconds(), Lookups: tLookups.Sub(tPublish).Seconds(),
		Total: time.Since(t0).Seconds(),
	}
	sum.Notes = notes
	if err := writeResults(cfg.Out, sum, ls, items, samples); err != nil {
		return sum, err
	}
	sum.table(w)
	return sum, nil
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
