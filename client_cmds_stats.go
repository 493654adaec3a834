package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// runStats dispatches `cairn stats <what>`; provide is the one statistic
// so far.
func runStats(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("stats", defaultClientTimeout)
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "provide" {
		return fmt.Errorf("%w: stats takes one statistic, provide; got %q", errUsage, pos)
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	st, err := c.StatsProvide(ctx)
	if err != nil {
		return err
	}
	// Kubo's four lines of `ipfs stats provide`, then what Cairn adds.
	// The writes go to tw's buffer; Flush reports any error of stdout.
	lastRun, interval := "never", "off"
	if st.LastRun != nil {
		lastRun = st.LastRun.Local().Format(time.RFC3339)
	}
	if st.ReprovideInterval > 0 {
		interval = st.ReprovideInterval.String()
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "TotalProvides:\t%d\n", st.TotalProvides)
	fmt.Fprintf(tw, "AvgProvideDuration:\t%s\n", st.AvgProvideDuration)
	fmt.Fprintf(tw, "LastReprovideDuration:\t%s\n", st.LastReprovideDuration)
	fmt.Fprintf(tw, "LastReprovideBatchSize:\t%d\n", st.LastReprovideBatchSize)
	fmt.Fprintf(tw, "ReprovideInterval:\t%s\n", interval)
	fmt.Fprintf(tw, "LastRun:\t%s\n", lastRun)
	fmt.Fprintf(tw, "Strategy:\t%s\n", st.Strategy)
	return tw.Flush()
}
