package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/go-cid"
)

// PinAddReplicated pins each CID recursively and has factor peers in all
// keep it (-1: the daemon's replication.default); it returns the CIDs
// pinned and each one's replication after the first round.
func (c *Client) PinAddReplicated(ctx context.Context, factor int, ids ...cid.Cid) ([]cid.Cid, []shell.Replication, error) {
	q := cidValues(ids)
	if factor >= 0 {
		q.Set("replicate", strconv.Itoa(factor))
	}
	var out struct {
		Pins        []string
		Replication []shell.Replication
	}
	if err := c.callJSON(ctx, "pin/add", q, &out); err != nil {
		return nil, nil, err
	}
	pinned, err := parseCIDs("pin/add", out.Pins)
	return pinned, out.Replication, err
}

// PinRmReplicated releases the copies the daemon asked other peers to keep
// of each CID, then unpins it.
func (c *Client) PinRmReplicated(ctx context.Context, ids ...cid.Cid) ([]cid.Cid, error) {
	q := cidValues(ids)
	q.Set("replicate", "true")
	return c.pins(ctx, "pin/rm", q)
}

// PinStatus reports a replicated pin's holders.
func (c *Client) PinStatus(ctx context.Context, id cid.Cid) (shell.Replication, error) {
	var out shell.Replication
	err := c.callJSON(ctx, "pin/status", url.Values{"arg": {id.String()}}, &out)
	return out, err
}

func (c *Client) callJSON(ctx context.Context, cmd string, q url.Values, v any) error {
	resp, err := c.call(ctx, cmd, q, nil, "")
	if err != nil {
		return err
	}
	return readJSON(resp, v)
}

func parseCIDs(cmd string, ss []string) ([]cid.Cid, error) {
	ids := make([]cid.Cid, len(ss))
	for i, s := range ss {
		var err error
		if ids[i], err = cid.Decode(s); err != nil {
			return nil, fmt.Errorf("%s: the shell sent an invalid CID %q: %w", cmd, s, err)
		}
	}
	return ids, nil
}
