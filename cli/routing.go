package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newRoutingCmd() *cobra.Command {
	return newGroupCmd("routing", "Find providers and peers in the DHT; announce content",
		`Kademlia DHT routing: who provides a CID, where a peer is, and
announcing that this node provides content. The routing tables
themselves are `+"`cairn stats dht`"+`.`,
		newFindProvsCmd("findprovs"), newFindPeerCmd(), newProvideCmd())
}

func newFindProvsCmd(use string) *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:   use + " CID",
		Short: "Print the peers that announce a CID",
		Long:  `Search the DHT for peers that announce they provide CID; print each peer ID as it is found.`,
		Args:  exactArgs(1, "one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().IntVarP(&n, "num-providers", "n", 20, "stop after this many providers")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := url.Values{"arg": {id.String()}, "num-providers": {strconv.Itoa(n)}}
			return printJSON(ctx, c, "routing/findprovs", q, out)
		}
		return c.FindProvs(ctx, id, n, func(p libp2ppeer.AddrInfo) error {
			_, err := fmt.Fprintln(out, p.ID)
			return err
		})
	})
	return cmd
}

func newFindPeerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "findpeer PEERID",
		Short: "Print a peer's addresses, found in the DHT",
		Long:  `Find a peer's addresses: those already known, else by a DHT search; one a line.`,
		Args:  exactArgs(1, "one peer ID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := libp2ppeer.Decode(args[0])
		if err != nil {
			return fmt.Errorf("invalid peer ID %q: %w", args[0], err)
		}
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "routing/findpeer", argValues(id.String()), out)
		}
		info, err := c.FindPeer(ctx, id)
		if err != nil {
			return err
		}
		w := &errWriter{w: out}
		for _, a := range info.Addrs {
			w.printf("%s\n", a)
		}
		return w.err
	})
	return cmd
}

func newProvideCmd() *cobra.Command {
	var recursive, verbose bool
	cmd := &cobra.Command{
		Use:   "provide CID...",
		Short: "Announce to the DHT that this node provides CIDs",
		Long: `Announce to the DHT, now, that this node provides each CID (with -r,
every block of each DAG too). The blocks must be held locally. The
reprovider announces pinned content again on its own
(content.reprovide_interval); this is for content that cannot wait.`,
		Args: minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "also announce every block under each CID")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print each CID once announced")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			q.Set("recursive", strconv.FormatBool(recursive))
			return printJSON(ctx, c, "routing/provide", q, out)
		}
		if err := c.Provide(ctx, recursive, ids...); err != nil {
			return err
		}
		if verbose {
			w := &errWriter{w: out}
			for _, id := range ids {
				w.printf("provided %s\n", id)
			}
			return w.err
		}
		return nil
	})
	return cmd
}
