package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cairnnet/cairn/shell/client"
)

// statPrinters are the statistics `cairn stats` shows, each fetched from
// the daemon and printed; verbose is -v.
var statPrinters = map[string]func(ctx context.Context, c *client.Client, stdout io.Writer, verbose bool) error{
	"provide":  printProvideStats,
	"bitswap":  printBitswapStats,
	"fastpath": printFastPathStats,
}

// runStats dispatches `cairn stats provide|bitswap|fastpath`.
func runStats(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("stats", defaultClientTimeout)
	verbose := f.fs.Bool("v", false, "bitswap: list the partners too")
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	var show func(context.Context, *client.Client, io.Writer, bool) error
	if len(pos) == 1 {
		show = statPrinters[pos[0]]
	}
	if show == nil {
		return fmt.Errorf("%w: stats takes one statistic, provide, bitswap or fastpath; got %q", errUsage, pos)
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	return show(ctx, c, stdout, *verbose)
}

// printProvideStats prints Kubo's four lines of `ipfs stats provide`, then
// what Cairn adds.
func printProvideStats(ctx context.Context, c *client.Client, stdout io.Writer, _ bool) error {
	st, err := c.StatsProvide(ctx)
	if err != nil {
		return err
	}
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

// printBitswapStats prints what Kubo's `ipfs stats bitswap` prints, the
// partners listed with -v as there.
func printBitswapStats(ctx context.Context, c *client.Client, stdout io.Writer, verbose bool) error {
	st, err := c.StatsBitswap(ctx)
	if err != nil {
		return err
	}
	w := &errWriter{w: stdout}
	w.printf("bitswap status\n")
	w.printf("\tblocks received: %d\n", st.BlocksReceived)
	w.printf("\tblocks sent: %d\n", st.BlocksSent)
	w.printf("\tdata received: %d\n", st.DataReceived)
	w.printf("\tdata sent: %d\n", st.DataSent)
	w.printf("\tdup blocks received: %d\n", st.DupBlksReceived)
	w.printf("\tdup data received: %d\n", st.DupDataReceived)
	w.printf("\twantlist [%d keys]\n", len(st.Wantlist))
	for _, k := range st.Wantlist {
		w.printf("\t\t%s\n", k)
	}
	w.printf("\tpartners [%d]\n", len(st.Peers))
	if verbose {
		for _, p := range st.Peers {
			w.printf("\t\t%s\n", p)
		}
	}
	return w.err
}

// printFastPathStats prints the fast path's counters, one a line.
func printFastPathStats(ctx context.Context, c *client.Client, stdout io.Writer, _ bool) error {
	st, err := c.StatsFastPath(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "Fetches:\t%d\n", st.Fetches)
	fmt.Fprintf(tw, "FilesFetched:\t%d\n", st.FilesFetched)
	fmt.Fprintf(tw, "FellBack:\t%d\n", st.FellBack)
	fmt.Fprintf(tw, "BlocksReceived:\t%d\n", st.BlocksReceived)
	fmt.Fprintf(tw, "BytesReceived:\t%d\n", st.BytesReceived)
	fmt.Fprintf(tw, "PeersDropped:\t%d\n", st.PeersDropped)
	fmt.Fprintf(tw, "BytesServed:\t%d\n", st.BytesServed)
	return tw.Flush()
}

// errWriter keeps the first error of a run of writes, for the caller to
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
