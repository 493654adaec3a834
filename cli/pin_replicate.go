package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
)

// newPinStatusCmd is `cairn pin status CID...`: a replicated pin's holders.
func newPinStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status CID...",
		Short: "Show a replicated pin's holders and live copies",
		Long: `For each CID pinned with --replicate here, or held here for another
peer: the copies wanted and live, each holder and when it last proved it
held the content (the leader's view is the freshest: the pinning peer
while it lives), and the peers that refused to hold it.`,
		Args: minArgs(1, "at least one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		ids, err := cidList(args)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if asJSON, _ := o.json(); asJSON {
				if err := printJSON(ctx, c, "pin/status", argValues(id.String()), out); err != nil {
					return err
				}
				continue
			}
			r, err := c.PinStatus(ctx, id)
			if err != nil {
				return err
			}
			if err := printPinStatus(out, r); err != nil {
				return err
			}
		}
		return nil
	})
	return cmd
}

func printPinStatus(out io.Writer, r shell.Replication) error {
	w := &errWriter{w: out}
	role := "pinned here"
	if r.Replica {
		role = "held here for " + r.Origin
	}
	w.printf("%s %d/%d live copies (%s)\n", r.Cid, r.Live, r.Factor, role)
	for _, h := range r.Holders {
		w.printf("  %s %s\n", h.Peer, holderState(h))
	}
	if w.err != nil {
		return w.err
	}
	return printRefusals(out, r)
}

// pinAddReplicated prints `pinned <cid> recursively, <live>/<n> copies`
// and any peer that refused to hold it.
func pinAddReplicated(ctx context.Context, c *client.Client, factor int, ids []cid.Cid, out io.Writer) error {
	pinned, reps, err := c.PinAddReplicated(ctx, factor, ids...)
	if err != nil {
		return err
	}
	w := &errWriter{w: out}
	for i, id := range pinned {
		if i >= len(reps) {
			w.printf("pinned %s recursively\n", id)
			continue
		}
		w.printf("pinned %s recursively, %d/%d copies\n", id, reps[i].Live, reps[i].Factor)
		if w.err == nil {
			w.err = printRefusals(out, reps[i])
		}
	}
	return w.err
}

func printRefusals(out io.Writer, r shell.Replication) error {
	w := &errWriter{w: out}
	for _, ref := range r.Refusals {
		w.printf("  refused by %s: %s\n", ref.Peer, ref.Reason)
	}
	return w.err
}

func holderState(h shell.ReplicationHolder) string {
	state := "live"
	if !h.Live {
		state = "not live"
	}
	if h.LastProved != nil {
		state += ", proved " + h.LastProved.Local().Format(time.DateTime)
	} else {
		state += ", never proved"
	}
	if h.Error != "" {
		state += ": " + h.Error
	}
	return state
}

// replicaMark is what pin ls adds to a replicated pin's line.
func replicaMark(p client.Pin) string {
	switch {
	case p.Replication > 0:
		return fmt.Sprintf(" replicated x%d", p.Replication)
	case p.Replica:
		return " replica"
	}
	return ""
}
