package cli

import (
	"context"
	"io"

	ma "github.com/multiformats/go-multiaddr"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
)

// Bootstrap commands edit discovery.bootstrap in <repo>/config.yaml, as
// the config commands do: directly, or with --api through the daemon.

func newBootstrapCmd() *cobra.Command {
	list := newBootstrapListCmd("list")
	cmd := newGroupCmd("bootstrap", "The peers the node joins the network through",
		`The bootstrap peers (discovery.bootstrap in config.yaml): the node dials
them at start and whenever it runs short of peers. Changes apply when the
daemon next starts. Cairn has no default bootstrap peers: a network is
joined through a peer of it.`,
		list, newBootstrapAddCmd(), newBootstrapRmCmd())
	return cmd
}

func newBootstrapListCmd(use string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: "List the bootstrap peers",
		Args:  noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		peers, err := bootstrapEdit(cmd.Context(), o, "list", nil, false)
		if err != nil {
			return err
		}
		return printPeers(cmd.OutOrStdout(), o, peers, "%s\n")
	}
	return cmd
}

func newBootstrapAddCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add MADDR...",
		Short: "Add bootstrap peers",
		Long:  `Add bootstrap peers, multiaddrs that end in /p2p/<peer-id>: "added <maddr>" for each that was not there.`,
		Args:  minArgs(1, "at least one MADDR"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		addrs, err := peer.ParseP2PAddrs(args)
		if err != nil {
			return err
		}
		added, err := bootstrapEdit(cmd.Context(), o, "add", addrs, false)
		if err != nil {
			return err
		}
		return printPeers(cmd.OutOrStdout(), o, added, "added %s\n")
	}
	return cmd
}

func newBootstrapRmCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "rm [MADDR...]",
		Short: "Remove bootstrap peers",
		Long:  `Remove bootstrap peers (every one with --all): "removed <maddr>" for each.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if all != (len(args) == 0) {
				return usagef("bootstrap rm takes MADDRs or --all (see `cairn bootstrap rm -h`)")
			}
			return nil
		},
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVar(&all, "all", false, "remove every bootstrap peer")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		addrs, err := peer.ParseP2PAddrs(args)
		if err != nil {
			return err
		}
		removed, err := bootstrapEdit(cmd.Context(), o, "rm", addrs, all)
		if err != nil {
			return err
		}
		return printPeers(cmd.OutOrStdout(), o, removed, "removed %s\n")
	}
	return cmd
}

// bootstrapEdit lists, adds or removes bootstrap peers, through the daemon
// with --api, else in the repo's file; it returns the peers listed or
// changed.
func bootstrapEdit(ctx context.Context, o *clientOpts, op string, addrs []ma.Multiaddr, all bool) ([]string, error) {
	if _, err := o.json(); err != nil {
		return nil, err
	}
	if o.api != "" {
		c, err := o.connect(o.timeout)
		if err != nil {
			return nil, err
		}
		var peers []string
		switch op {
		case "list":
			peers, err = c.BootstrapList(ctx)
		case "add":
			peers, err = c.BootstrapAdd(ctx, addrs...)
		default:
			peers, err = c.BootstrapRm(ctx, all, addrs...)
		}
		return peers, explain(err)
	}
	repo := repoOr(o.repo)
	switch op {
	case "list":
		return peer.BootstrapPeers(repo)
	case "add":
		return peer.AddBootstrapPeers(repo, addrs)
	}
	return peer.RemoveBootstrapPeers(repo, addrs, all)
}

// printPeers prints the peers one a line with format, or Kubo's JSON.
func printPeers(out io.Writer, o *clientOpts, peers []string, format string) error {
	if asJSON, _ := o.json(); asJSON {
		if peers == nil {
			peers = []string{}
		}
		return printHuman(out, struct{ Peers []string }{peers})
	}
	w := &errWriter{w: out}
	for _, p := range peers {
		w.printf(format, p)
	}
	return w.err
}
