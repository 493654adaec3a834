package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newStatsCmd() *cobra.Command {
	return newGroupCmd("stats", "Counters: bandwidth, DHT, providing, Bitswap, fast path",
		`Counters the daemon keeps: bandwidth, the DHT routing tables,
reproviding, Bitswap and the fast path.`,
		newStatsBWCmd(), newStatsDHTCmd("dht"),
		newStatsCmdOf("provide", "Show reproviding: announcements, timing, strategy", "stats/provide", printProvideStats),
		newStatsCmdOf("bitswap", "Show Kubo's Bitswap counters (-v: partners)", "stats/bitswap", printBitswapStats),
		newStatsCmdOf("fastpath", "Show fast-path fetches, fallbacks and bytes", "stats/fastpath", printFastPathStats))
}

// newStatsCmdOf is one statistic fetched from the daemon and printed;
// verbose is -v.
func newStatsCmdOf(use, short, endpoint string, show func(context.Context, *client.Client, io.Writer, bool) error) *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{Use: use, Short: short, Args: noArgs}
	o := printingFlags(cmd, defaultClientTimeout)
	if use == "bitswap" {
		cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list the partners too")
	}
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, endpoint, nil, out)
		}
		return show(ctx, c, out, verbose)
	})
	return cmd
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

// newStatsDHTCmd prints the DHT routing tables bucket by bucket: each
// peer, whether it is connected, and how long ago it was last useful.
func newStatsDHTCmd(use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " [lan|wan]...",
		Short: "Show the DHT routing tables",
		Long: `Show the DHT routing tables, the LAN's and the WAN's (or those named),
bucket by bucket: each peer, whether it is connected, when it was last
useful, and its agent.`,
		Args: func(cmd *cobra.Command, args []string) error {
			for _, n := range args {
				if n != "lan" && n != "wan" {
					return usagef("%s: unknown table %q (lan or wan)", commandName(cmd), n)
				}
			}
			return nil
		},
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "stats/dht", argValues(args...), out)
		}
		tables, err := c.RoutingTables(ctx, args...)
		if err != nil {
			return err
		}
		_, err = io.WriteString(out, formatRoutingTables(tables, time.Now()))
		return err
	})
	return cmd
}

func formatRoutingTables(tables []client.RoutingTable, now time.Time) string {
	var b strings.Builder
	for _, t := range tables {
		total := 0
		for _, bucket := range t.Buckets {
			total += len(bucket)
		}
		fmt.Fprintf(&b, "%s: %d peers in %d buckets\n", t.Name, total, len(t.Buckets))
		for i, bucket := range t.Buckets {
			if len(bucket) == 0 {
				continue
			}
			fmt.Fprintf(&b, "  bucket %d: %d peers\n", i, len(bucket))
			for _, p := range bucket {
				state := "not connected"
				if p.Connected {
					state = "connected"
				}
				fmt.Fprintf(&b, "    %s  %s  last useful %s  %s\n", p.ID, state, ago(p.LastUsefulAt, now), p.AgentVersion)
			}
		}
	}
	return b.String()
}

// ago says how long before now t was, to the second, or "never".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Truncate(time.Second).String() + " ago"
}
