package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newSwarmCmd() *cobra.Command {
	return newGroupCmd("swarm", "Connections to other peers",
		`Connections to other peers: list them, dial or close them, and show
the addresses the node knows.`,
		newSwarmPeersCmd("peers"), newSwarmConnectCmd("connect"), newSwarmDisconnectCmd(), newSwarmAddrsCmd("addrs"))
}

func newSwarmPeersCmd(use string) *cobra.Command {
	var verbose, latency, direction bool
	cmd := &cobra.Command{
		Use:   use,
		Short: "List connected peers",
		Long: `List the peers the node is connected to: "<addr>/p2p/<id>" per
connection, with -v its latency and direction, as Kubo prints them.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also show latency and direction")
	cmd.Flags().BoolVar(&latency, "latency", false, "also show latency")
	cmd.Flags().BoolVar(&direction, "direction", false, "also show direction")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			q := url.Values{"verbose": {fmt.Sprint(verbose)}, "latency": {fmt.Sprint(latency)}, "direction": {fmt.Sprint(direction)}}
			return printJSON(ctx, c, "swarm/peers", q, out)
		}
		peers, err := c.Peers(ctx)
		if err != nil {
			return err
		}
		w := &errWriter{w: out}
		for _, p := range peers {
			line := fmt.Sprintf("%s/p2p/%s", p.Addr, p.ID)
			if verbose || latency {
				line += " " + latencyText(p.Latency)
			}
			if verbose || direction {
				line += " " + p.Direction
			}
			w.printf("%s\n", line)
		}
		return w.err
	})
	return cmd
}

func latencyText(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return d.String()
}

func newSwarmConnectCmd(use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " MADDR...",
		Short: "Dial peers at their multiaddrs",
		Long: `Dial peers at multiaddrs that end in /p2p/<peer-id>, such as
/ip4/192.0.2.7/tcp/4201/p2p/12D3KooW...; every address is checked before
any is dialled.`,
		Args: minArgs(1, "at least one MADDR"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		return swarmCall(ctx, c, o, "swarm/connect", args, out, c.Connect)
	})
	return cmd
}

func newSwarmDisconnectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "disconnect MADDR...",
		Short: "Close the connections to peers",
		Long: `Close the connections to each peer named by a multiaddr ending in
/p2p/<peer-id> (all of that peer's connections, or with a transport
part only those to that address). The peer may dial back or be dialled
again by discovery.`,
		Args: minArgs(1, "at least one MADDR"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		return swarmCall(ctx, c, o, "swarm/disconnect", args, out, c.Disconnect)
	})
	return cmd
}

// swarmCall checks the addresses, then calls the shell and prints its
// report lines.
func swarmCall(ctx context.Context, c *client.Client, o *clientOpts, cmd string, args []string, out io.Writer, call func(context.Context, ...ma.Multiaddr) ([]string, error)) error {
	addrs, err := parseP2PAddrs(args)
	if err != nil {
		return err
	}
	if asJSON, _ := o.json(); asJSON {
		return printJSON(ctx, c, cmd, argValues(args...), out)
	}
	lines, err := call(ctx, addrs...)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, strings.Join(lines, "\n"))
	return err
}

// parseP2PAddrs checks addresses before any is dialled.
func parseP2PAddrs(args []string) ([]ma.Multiaddr, error) {
	addrs := make([]ma.Multiaddr, len(args))
	for i, s := range args {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid multiaddr %q: %w", s, err)
		}
		if _, id := libp2ppeer.SplitAddr(a); id == "" {
			return nil, fmt.Errorf("multiaddr %q has no /p2p/<peer-id> part", s)
		}
		addrs[i] = a
	}
	return addrs, nil
}

// newSwarmAddrsCmd prints the addresses the daemon knows for each peer, as
// Kubo's `ipfs swarm addrs` does; `swarm addrs local` (or --local) its own.
func newSwarmAddrsCmd(use string) *cobra.Command {
	var local bool
	cmd := &cobra.Command{
		Use:   use,
		Short: "List the addresses known for each peer",
		Long: `List every address the node knows for other peers, connected or not:
"<id> (<count>)" then one address a line. ` + "`swarm addrs local`" + ` lists the
node's own.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVar(&local, "local", false, "list the daemon's own addresses instead (as `swarm addrs local`)")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if local {
			return printLocalAddrs(ctx, c, o, out)
		}
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "swarm/addrs", nil, out)
		}
		known, err := c.KnownAddrs(ctx)
		if err != nil {
			return err
		}
		ids := make([]libp2ppeer.ID, 0, len(known))
		for id := range known {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		var b strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&b, "%s (%d)\n", id, len(known[id]))
			for _, a := range known[id] {
				fmt.Fprintf(&b, "\t%s\n", a)
			}
		}
		_, err = io.WriteString(out, b.String())
		return err
	})
	cmd.AddCommand(newSwarmAddrsLocalCmd())
	return cmd
}

func newSwarmAddrsLocalCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "local",
		Short: "List the node's own addresses",
		Args:  noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		return printLocalAddrs(ctx, c, o, out)
	})
	return cmd
}

func printLocalAddrs(ctx context.Context, c *client.Client, o *clientOpts, out io.Writer) error {
	if asJSON, _ := o.json(); asJSON {
		return printJSON(ctx, c, "swarm/addrs/local", nil, out)
	}
	id, err := c.ID(ctx)
	if err != nil {
		return err
	}
	w := &errWriter{w: out}
	for _, a := range id.Addresses {
		w.printf("%s\n", a)
	}
	return w.err
}
