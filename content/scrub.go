package content

import (
	"context"
	"time"
)

// startScrub runs a scrub — Verify with repair — every interval until
// Close, logging what it finds.
func (c *Content) startScrub(interval time.Duration) {
	ctx, done, err := c.begin(c.life)
	if err != nil {
		return
	}
	go func() {
		defer done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			res := c.scrub(ctx)
			if c.scrubbed != nil {
				select {
				case c.scrubbed <- res:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
}

// scrub verifies and repairs the repo once.
func (c *Content) scrub(ctx context.Context) VerifyResult {
	start := time.Now()
	res, err := c.Verify(ctx, true, func(d DamagedBlock) error {
		logger().Warn("scrub: damaged block", "cid", d.Cid, "err", d.Err, "repaired", d.Repaired, "repair_err", d.RepairErr)
		return nil
	})
	switch {
	case err != nil && ctx.Err() == nil:
		logger().Warn("scrub failed", "err", err)
	case len(res.Damaged) > len(res.Repaired):
		logger().Warn("scrub: blocks left damaged; adding their content again repairs them",
			"checked", res.Checked, "damaged", len(res.Damaged), "repaired", len(res.Repaired))
	default:
		logger().Info("scrub done", "checked", res.Checked, "repaired", len(res.Repaired), "took", time.Since(start))
	}
	return res
}
