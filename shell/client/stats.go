package client

import (
	"context"
	"fmt"
	"time"
)

// ProvideStats is how the node's reproviding goes, from
// /api/v0/stats/provide: Kubo's four fields plus the interval, the time
// of the last run and the strategy.
type ProvideStats struct {
	TotalProvides          uint64        // keys re-announced since the node started
	AvgProvideDuration     time.Duration // mean time per re-announced key
	LastReprovideDuration  time.Duration // how long the last batch took
	LastReprovideBatchSize uint64        // keys in the last batch
	ReprovideInterval      time.Duration // 0: the node does not reprovide
	LastRun                *time.Time    // nil: no run since the node started
	Strategy               string        // "roots", "pinned" or "all"
}

// StatsProvide reports the node's provider counters.
func (c *Client) StatsProvide(ctx context.Context) (ProvideStats, error) {
	resp, err := c.call(ctx, "stats/provide", nil, nil, "")
	if err != nil {
		return ProvideStats{}, err
	}
	var out ProvideStats
	if err := readJSON(resp, &out); err != nil {
		return ProvideStats{}, fmt.Errorf("stats/provide: %w", err)
	}
	return out, nil
}
