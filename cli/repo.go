package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newRepoCmd() *cobra.Command {
	return newGroupCmd("repo", "The local store: garbage collection, size, integrity",
		`The local block store: collect what no pin keeps, show its size and
limit, or re-hash every block to find damage.`,
		newRepoGCCmd(), newRepoStatCmd(), newRepoVerifyCmd())
}

func newRepoGCCmd() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:   "gc",
		Short: "Remove the blocks no pin keeps",
		Long: `Remove every stored block that no pin reaches: "removed <cid>" per
block. Adds and pins go on while it runs; what they touch is kept.
A block under a pin that cannot be read (missing or damaged) is skipped
and named at the end, and the command fails; what only it links to is
not kept (repo verify --repair fetches it again).`,
		Args: noArgs,
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print CIDs only")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "repo/gc", nil, out)
		}
		return c.RepoGC(ctx, func(id cid.Cid) error {
			var err error
			if quiet {
				_, err = fmt.Fprintln(out, id)
			} else {
				_, err = fmt.Fprintf(out, "removed %s\n", id)
			}
			return err
		})
	})
	return cmd
}

func newRepoStatCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stat",
		Short: "Show the store's blocks, bytes and limit",
		Long:  `Show the number of blocks stored, their bytes, content.storage_max, the repo's path and its layout version.`,
		Args:  noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "repo/stat", nil, out)
		}
		st, err := c.RepoStat(ctx)
		if err != nil {
			return err
		}
		limit := fmt.Sprint(st.StorageMax)
		if st.StorageMax == 0 {
			limit = "0 (unlimited)"
		}
		tw := tabwriter.NewWriter(out, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "NumObjects:\t%d\n", st.NumObjects)
		fmt.Fprintf(tw, "RepoSize:\t%d\n", st.RepoSize)
		fmt.Fprintf(tw, "StorageMax:\t%s\n", limit)
		fmt.Fprintf(tw, "RepoPath:\t%s\n", st.RepoPath)
		fmt.Fprintf(tw, "Version:\t%s\n", st.Version)
		return tw.Flush()
	})
	return cmd
}

// newRepoVerifyCmd prints "corrupt <cid>" per damaged block (with
// --repair, "repaired <cid>" for each one fetched again), then the
// daemon's verdict; blocks left damaged make it fail.
func newRepoVerifyCmd() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Re-hash every stored block",
		Long: `Read every stored block and check its bytes against its CID: "corrupt <cid>" per damaged block, then a verdict. Damaged blocks make the command fail.
With --repair, each damaged block is fetched again from peers ("repaired <cid>"); adding its content again repairs it too.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().BoolVar(&repair, "repair", false, "fetch damaged blocks again from peers")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if asJSON, _ := o.json(); asJSON {
			var q url.Values
			if repair {
				q = url.Values{"repair": {"true"}}
			}
			return printJSON(ctx, c, "repo/verify", q, out)
		}
		report := func(id cid.Cid, repaired bool) error {
			verb := "corrupt"
			if repaired {
				verb = "repaired"
			}
			_, err := fmt.Fprintf(out, "%s %s\n", verb, id)
			return err
		}
		var msg string
		var err error
		if repair {
			msg, err = c.RepoVerifyRepair(ctx, report)
		} else {
			msg, err = c.RepoVerify(ctx, func(id cid.Cid) error { return report(id, false) })
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, msg)
		return err
	})
	return cmd
}
