package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/ipfs/go-cid"
)

// Pin is one pin as pin/ls reports it; Type is "recursive", "direct" or
// "indirect".
type Pin struct {
	Cid  cid.Cid
	Type string
	// Replication is the copies the node keeps of a pin it replicates
	// (0: none); Replica says it holds the pin for another peer.
	Replication int
	Replica     bool
}

// PinAdd pins each CID, recursively or directly, and returns the CIDs
// pinned.
func (c *Client) PinAdd(ctx context.Context, recursive bool, ids ...cid.Cid) ([]cid.Cid, error) {
	q := cidValues(ids)
	q.Set("recursive", strconv.FormatBool(recursive))
	return c.pins(ctx, "pin/add", q)
}

// PinRm removes the pins on each CID and returns the CIDs unpinned.
func (c *Client) PinRm(ctx context.Context, ids ...cid.Cid) ([]cid.Cid, error) {
	return c.pins(ctx, "pin/rm", cidValues(ids))
}

func (c *Client) pins(ctx context.Context, cmd string, q url.Values) ([]cid.Cid, error) {
	resp, err := c.call(ctx, cmd, q, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct{ Pins []string }
	if err := readJSON(resp, &out); err != nil {
		return nil, err
	}
	ids := make([]cid.Cid, len(out.Pins))
	for i, s := range out.Pins {
		if ids[i], err = cid.Decode(s); err != nil {
			return nil, fmt.Errorf("%s: the shell sent an invalid CID %q: %w", cmd, s, err)
		}
	}
	return ids, nil
}

// PinLs lists the pins of type typ ("all", "recursive", "direct" or
// "indirect"; "" for all), or, given CIDs, how each is pinned (an error for
// one that is not), calling each for every pin as it arrives.
func (c *Client) PinLs(ctx context.Context, typ string, ids []cid.Cid, each func(Pin) error) error {
	q := cidValues(ids)
	if typ != "" {
		q.Set("type", typ)
	}
	q.Set("stream", "true")
	resp, err := c.call(ctx, "pin/ls", q, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(raw json.RawMessage) error {
		var p struct {
			Cid, Type   string
			Replication int
			Replica     bool
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("pin/ls: decoding response: %w", err)
		}
		id, err := cid.Decode(p.Cid)
		if err != nil {
			return fmt.Errorf("pin/ls: the shell sent an invalid CID %q: %w", p.Cid, err)
		}
		return each(Pin{Cid: id, Type: p.Type, Replication: p.Replication, Replica: p.Replica})
	})
}

// cidValues is the query naming ids as "arg" values.
func cidValues(ids []cid.Cid) url.Values {
	q := url.Values{}
	for _, id := range ids {
		q.Add("arg", id.String())
	}
	return q
}
