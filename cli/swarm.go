package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"

	"github.com/cairnnet/cairn/shell/client"
)

// runAddrs prints the addresses the daemon knows for each peer, as Kubo's
// `ipfs swarm addrs` does, or with --local its own.
func runAddrs(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("addrs", defaultClientTimeout)
	local := f.fs.Bool("local", false, "list the daemon's own addresses instead")
	if err := noArgs(f, args, stdout); err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	if *local {
		id, err := c.ID(ctx)
		if err != nil {
			return err
		}
		for _, a := range id.Addresses {
			if _, err := fmt.Fprintln(stdout, a); err != nil {
				return err
			}
		}
		return nil
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
	_, err = io.WriteString(stdout, b.String())
	return err
}

// runRouting prints the DHT routing tables bucket by bucket: each peer,
// whether it is connected, and how long ago it was last useful.
func runRouting(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("routing", defaultClientTimeout)
	names, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	for _, n := range names {
		if n != "lan" && n != "wan" {
			return fmt.Errorf("%w: routing: unknown table %q (lan or wan)", errUsage, n)
		}
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	tables, err := c.RoutingTables(ctx, names...)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, formatRoutingTables(tables, time.Now()))
	return err
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
