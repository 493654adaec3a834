package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

// newStatsBWCmd is Kubo's `stats bw`: libp2p's bandwidth counter, for all
// traffic or one protocol's.
func newStatsBWCmd() *cobra.Command {
	var proto string
	cmd := &cobra.Command{
		Use:   "bw",
		Short: "Show bytes in and out and their rates",
		Long: `Show the bytes the node's libp2p host sent and received since it started,
and the current rates, as Kubo's stats bw prints them: for all traffic, or
for one protocol with --proto (e.g. /ipfs/bitswap/1.2.0).`,
		Args: noArgs,
	}
	cmd.Flags().StringVarP(&proto, "proto", "t", "", "only this protocol's traffic")
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			q := url.Values{}
			if proto != "" {
				q.Set("proto", proto)
			}
			return printJSON(ctx, c, "stats/bw", q, out)
		}
		bw, err := c.StatsBW(ctx, proto)
		if err != nil {
			return err
		}
		return printBW(out, bw)
	})
	return cmd
}

// printBW prints Kubo's five lines of `ipfs stats bw`.
func printBW(out io.Writer, bw client.Bandwidth) error {
	w := &errWriter{w: out}
	w.printf("Bandwidth\n")
	w.printf("TotalIn: %s\n", humanize.Bytes(uint64(bw.TotalIn)))
	w.printf("TotalOut: %s\n", humanize.Bytes(uint64(bw.TotalOut)))
	w.printf("RateIn: %s/s\n", humanize.Bytes(uint64(bw.RateIn)))
	w.printf("RateOut: %s/s\n", humanize.Bytes(uint64(bw.RateOut)))
	return w.err
}

// newLogCmd is Kubo's `log` group; Cairn has its `level` command.
func newLogCmd() *cobra.Command {
	level := &cobra.Command{
		Use:   "level SUBSYSTEM LEVEL",
		Short: "Change a subsystem's log level while the daemon runs",
		Long: `Change a log subsystem's level while the daemon runs: one of Cairn's
packages (peer, shell, content, content/fastpath, dht, discovery, cli; a
package's level covers its sub-packages), one of go-libp2p's, kad-dht's or
boxo's (swarm2, dht, bitswap, ...), or all of them with "all". Levels are
debug, info, warn and error (and go-log's dpanic, panic, fatal). The change
lasts until the daemon stops; log.level in config.yaml sets the start.`,
		Args: exactArgs(2, "a subsystem and a level"),
	}
	o := clientFlags(level, defaultClientTimeout)
	level.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		msg, err := c.SetLogLevel(ctx, args[0], args[1])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, msg)
		return err
	})
	return newGroupCmd("log", "Change how the daemon logs", "Change how the running daemon logs.", level)
}

// newStatusCmd prints Cairn's one screen about the node.
func newStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show who the node is, its peers, store and what is moving",
		Long: `Show, on one screen, who the node is and how other peers reach it (its
addresses, to bootstrap from), its peers and routing tables, how full its
store is, its bandwidth, and the reads of content running now. The web page
at http://127.0.0.1:5201/webui/ shows the same, live.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "status", nil, out)
		}
		st, err := c.Status(ctx)
		if err != nil {
			return err
		}
		return printStatus(out, st)
	})
	return cmd
}

// printStatus lays the status out as label and value lines.
func printStatus(out io.Writer, st client.Status) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Peer ID:\t%s\n", st.ID)
	fmt.Fprintf(tw, "Agent:\t%s, reachability %s\n", st.AgentVersion, st.Reachability)
	label := "Addresses:"
	for _, a := range st.Addresses {
		fmt.Fprintf(tw, "%s\t%s\n", label, a)
		label = ""
	}
	if st.GatewayURL != "" {
		fmt.Fprintf(tw, "Gateway:\t%s\n", st.GatewayURL)
	}
	fmt.Fprintf(tw, "Peers:\t%d connected (%d in, %d out)\n", st.Peers.Connected, st.Peers.Inbound, st.Peers.Outbound)
	tables := make([]string, len(st.Routing))
	for i, t := range st.Routing {
		tables[i] = fmt.Sprintf("%s %d peers in %d buckets", t.Name, t.Peers, len(t.Buckets))
	}
	fmt.Fprintf(tw, "Routing:\t%s\n", strings.Join(tables, ", "))
	fmt.Fprintf(tw, "Store:\t%s\n", storeLine(st))
	if bw := st.Bandwidth; bw != nil {
		fmt.Fprintf(tw, "Bandwidth:\tin %s (%s/s), out %s (%s/s)\n", humanize.IBytes(uint64(bw.TotalIn)), humanize.IBytes(uint64(bw.RateIn)),
			humanize.IBytes(uint64(bw.TotalOut)), humanize.IBytes(uint64(bw.RateOut)))
	}
	fmt.Fprintf(tw, "Moving now:\t%s\n", transfersLine(len(st.Transfers)))
	for _, t := range st.Transfers {
		fmt.Fprintf(tw, "\t%s\n", transferLine(t))
	}
	return tw.Flush()
}

func storeLine(st client.Status) string {
	s := st.Store
	used := fmt.Sprintf("%s in %d blocks", humanize.IBytes(s.RepoSize), s.NumObjects)
	if s.StorageMax == 0 {
		return used + ", no storage_max"
	}
	return fmt.Sprintf("%s, %.1f%% of %s", used, 100*float64(s.RepoSize)/float64(s.StorageMax), humanize.IBytes(s.StorageMax))
}

func transfersLine(n int) string {
	switch n {
	case 0:
		return "nothing"
	case 1:
		return "1 read"
	}
	return fmt.Sprintf("%d reads", n)
}

// transferLine is one read: its CID, how far along, whence, for how long.
func transferLine(t client.Transfer) string {
	done := humanize.IBytes(uint64(t.Bytes))
	if t.Size > 0 {
		done = fmt.Sprintf("%s of %s (%.0f%%)", done, humanize.IBytes(uint64(t.Size)), 100*float64(t.Bytes)/float64(t.Size))
	}
	from := "local"
	if t.Fetch {
		from = "network"
	}
	return fmt.Sprintf("%s %s %s, %s, %.0fs", t.Kind, t.Cid, done, from, t.Seconds)
}
