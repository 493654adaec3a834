package cli

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

func newPinCmd() *cobra.Command {
	return newGroupCmd("pin", "Pins: what garbage collection keeps",
		`Pins say what garbage collection keeps: a recursive pin keeps a whole
DAG, a direct pin one block. Added content is pinned unless
`+"`add --pin=false`"+`.`,
		newPinAddCmd(), newPinRmCmd(), newPinLsCmd(), newPinVerifyCmd(), newPinStatusCmd())
}

func newPinAddCmd() *cobra.Command {
	recursive := true
	var replicate int
	cmd := &cobra.Command{
		Use:   "add CID...",
		Short: "Pin DAGs, fetching what is missing",
		Long: `Pin each CID: recursively (the whole DAG, fetched from peers where
missing), or with --recursive=false the block alone. The pinned root is
announced.`,
		Args: minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", true, "pin the whole DAG; false pins the block alone")
	cmd.Flags().IntVar(&replicate, "replicate", 0, "keep N live copies on the network, this one included (default: replication.default)")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		replicated := cmd.Flags().Changed("replicate")
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			q.Set("recursive", strconv.FormatBool(recursive))
			if replicated {
				q.Set("replicate", strconv.Itoa(replicate))
			}
			return printJSON(ctx, c, "pin/add", q, out)
		}
		if replicated {
			return pinAddReplicated(ctx, c, replicate, ids, out)
		}
		pinned, err := c.PinAdd(ctx, recursive, ids...)
		if err != nil {
			return err
		}
		how := "recursively"
		if !recursive {
			how = "directly"
		}
		return eachLine(out, pinned, "pinned %s "+how+"\n")
	})
	return cmd
}

// eachLine prints format (with one %s) for each CID.
func eachLine(out io.Writer, ids []cid.Cid, format string) error {
	w := &errWriter{w: out}
	for _, id := range ids {
		w.printf(format, id)
	}
	return w.err
}

func newPinRmCmd() *cobra.Command {
	var replicate bool
	cmd := &cobra.Command{
		Use:   "rm CID...",
		Short: "Remove pins",
		Long:  `Remove the pin, recursive or direct, on each CID. The blocks stay until ` + "`cairn repo gc`" + `.`,
		Args:  minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVar(&replicate, "replicate", false, "also release the copies pin add --replicate asked other peers to keep")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			if replicate {
				q.Set("replicate", "true")
			}
			return printJSON(ctx, c, "pin/rm", q, out)
		}
		rm := c.PinRm
		if replicate {
			rm = c.PinRmReplicated
		}
		unpinned, err := rm(ctx, ids...)
		if err != nil {
			return err
		}
		return eachLine(out, unpinned, "unpinned %s\n")
	})
	return cmd
}

func newPinLsCmd() *cobra.Command {
	var typ string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "ls [CID...]",
		Short: "List pins, or say how CIDs are pinned",
		Long: `List the pins: "<cid> <type>" per pin, as Kubo's pin ls prints them.
Given CIDs, say how each is pinned (an error for one that is not).`,
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().StringVarP(&typ, "type", "t", "all", "all, recursive, direct or indirect")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print CIDs only")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			q := argValues(args...)
			q.Set("type", typ)
			q.Set("stream", "true")
			return printJSON(ctx, c, "pin/ls", q, out)
		}
		return c.PinLs(ctx, typ, ids, func(p client.Pin) error {
			if quiet {
				_, err := fmt.Fprintln(out, p.Cid)
				return err
			}
			_, err := fmt.Fprintf(out, "%s %s%s\n", p.Cid, p.Type, replicaMark(p))
			return err
		})
	})
	return cmd
}

func newPinVerifyCmd() *cobra.Command {
	var verbose, quiet bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that every recursive pin's DAG is whole",
		Long: `Check that every block of every recursive pin is in the local store,
undamaged and decodable, without fetching anything: "<cid> broken" and
the bad blocks for each pin that is not (with --verbose also "<cid> ok").
The command fails when a pin is broken.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, 0)
	cmd.Flags().BoolVar(&verbose, "verbose", false, "also print the pins that are whole")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the CIDs of broken pins")
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		if verbose && quiet {
			return usagef("pin verify: --verbose and --quiet exclude each other")
		}
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "pin/verify", url.Values{"verbose": {strconv.FormatBool(verbose)}}, out)
		}
		broken := 0
		err := c.PinVerify(ctx, verbose, func(r client.PinVerifyResult) error {
			if !r.Ok {
				broken++
			}
			return printPinVerify(out, r, quiet)
		})
		if err == nil && broken > 0 {
			err = fmt.Errorf("pin verify: %d broken pins", broken)
		}
		return err
	})
	return cmd
}

// printPinVerify prints one result as Kubo does.
func printPinVerify(out io.Writer, r client.PinVerifyResult, quiet bool) error {
	w := &errWriter{w: out}
	switch {
	case quiet && !r.Ok:
		w.printf("%s\n", r.Cid)
	case quiet:
	case r.Ok:
		w.printf("%s ok\n", r.Cid)
	default:
		w.printf("%s broken\n", r.Cid)
		for _, b := range r.BadNodes {
			w.printf("  %s: %s\n", b.Cid, b.Err)
		}
	}
	return w.err
}
