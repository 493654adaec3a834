package content

import (
	"context"
	"fmt"
	"time"
)

// ProvideStats describes the provider system: boxo's reprovider counters
// and the strategy that picks the keys it re-announces.
type ProvideStats struct {
	// TotalReprovides counts the keys re-announced since the node started.
	TotalReprovides uint64
	// LastReprovideBatchSize is how many keys the last batch announced.
	LastReprovideBatchSize uint64
	// AvgReprovideDuration is the mean time spent per re-announced key.
	AvgReprovideDuration time.Duration
	// LastReprovideDuration is how long the last batch took.
	LastReprovideDuration time.Duration
	// ReprovideInterval is the time between two runs; 0 when the node
	// does not reprovide (disabled, or no host or router to announce to).
	ReprovideInterval time.Duration
	// LastRun is when the last batch ended; zero if none has run since the
	// node started.
	LastRun time.Time
	// Strategy is the configured provide strategy (StrategyRoots, ...).
	Strategy string
}

// ProvideStats reports how reproviding goes. It takes no lock that a
// running reprovide holds, so it answers while one is in progress.
func (c *Content) ProvideStats() (ProvideStats, error) {
	st, err := c.prov.Stat()
	if err != nil {
		return ProvideStats{}, fmt.Errorf("provider stats: %w", err)
	}
	return ProvideStats{
		TotalReprovides:        st.TotalReprovides,
		LastReprovideBatchSize: st.LastReprovideBatchSize,
		AvgReprovideDuration:   st.AvgReprovideDuration,
		LastReprovideDuration:  st.LastReprovideDuration,
		ReprovideInterval:      st.ReprovideInterval,
		LastRun:                st.LastRun,
		Strategy:               c.cfg.ProvideStrategy,
	}, nil
}

// Reprovide re-announces every key of the provide strategy now, and
// returns when all were announced, ctx ended, or Close was called. It fails
// if a reprovide (this or the periodic one) is already running.
func (c *Content) Reprovide(ctx context.Context) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := c.prov.Reprovide(ctx); err != nil {
		return fmt.Errorf("reprovide: %w", err)
	}
	return nil
}
