package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/ipfs/go-cid"
)

// DAGStat is Kubo's dag stat: each DAG's blocks and bytes, and over all
// of them the unique blocks, their bytes, the bytes shared between DAGs
// and the ratio of all bytes walked to unique bytes.
type DAGStat struct {
	DAGs         []DAGStatEntry
	UniqueBlocks int
	TotalSize    uint64
	SharedSize   uint64
	Ratio        float32
}

// DAGStatEntry is one DAG's blocks and bytes.
type DAGStatEntry struct {
	Cid       cid.Cid
	Size      uint64
	NumBlocks int64
}

// DAGStat walks the DAGs under ids (fetching what the daemon lacks) and
// counts their blocks and bytes.
func (c *Client) DAGStat(ctx context.Context, ids ...cid.Cid) (DAGStat, error) {
	q := cidValues(ids)
	q.Set("progress", "false")
	resp, err := c.call(ctx, "dag/stat", q, nil, "")
	if err != nil {
		return DAGStat{}, err
	}
	var out struct {
		UniqueBlocks int
		TotalSize    uint64
		SharedSize   uint64
		Ratio        float32
		DagStats     []struct {
			Cid       string
			Size      uint64
			NumBlocks int64
		}
	}
	if err := readJSON(resp, &out); err != nil {
		return DAGStat{}, err
	}
	st := DAGStat{UniqueBlocks: out.UniqueBlocks, TotalSize: out.TotalSize, SharedSize: out.SharedSize, Ratio: out.Ratio}
	for _, d := range out.DagStats {
		id, err := cid.Decode(d.Cid)
		if err != nil {
			return DAGStat{}, fmt.Errorf("dag/stat: the shell sent an invalid CID %q: %w", d.Cid, err)
		}
		st.DAGs = append(st.DAGs, DAGStatEntry{Cid: id, Size: d.Size, NumBlocks: d.NumBlocks})
	}
	return st, nil
}

// BlockRmResult is one block's outcome in BlockRm: Error is "" when it
// was removed.
type BlockRmResult struct {
	Cid   cid.Cid
	Error string
}

// BlockRm removes blocks from the daemon's store, calling each with every
// block's outcome; with force, blocks it does not hold are passed over.
func (c *Client) BlockRm(ctx context.Context, ids []cid.Cid, force bool, each func(BlockRmResult) error) error {
	q := cidValues(ids)
	q.Set("force", fmt.Sprint(force))
	resp, err := c.call(ctx, "block/rm", q, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(raw json.RawMessage) error {
		var r struct{ Hash, Error string }
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("block/rm: decoding response: %w", err)
		}
		id, err := cid.Decode(r.Hash)
		if err != nil {
			return fmt.Errorf("block/rm: the shell sent an invalid CID %q: %w", r.Hash, err)
		}
		return each(BlockRmResult{Cid: id, Error: r.Error})
	})
}

// PinVerifyResult is one recursive pin's outcome in PinVerify.
type PinVerifyResult struct {
	Cid      cid.Cid
	Ok       bool
	BadNodes []BadNode
}

// BadNode is a block a pin needs that the daemon's store cannot give.
type BadNode struct {
	Cid string
	Err string
}

// PinVerify checks the daemon's recursive pins, calling each with every
// broken one (with verbose, every one).
func (c *Client) PinVerify(ctx context.Context, verbose bool, each func(PinVerifyResult) error) error {
	resp, err := c.call(ctx, "pin/verify", url.Values{"verbose": {fmt.Sprint(verbose)}}, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(raw json.RawMessage) error {
		var r struct {
			Cid      string
			Ok       bool
			BadNodes []BadNode
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("pin/verify: decoding response: %w", err)
		}
		id, err := cid.Decode(r.Cid)
		if err != nil {
			return fmt.Errorf("pin/verify: the shell sent an invalid CID %q: %w", r.Cid, err)
		}
		return each(PinVerifyResult{Cid: id, Ok: r.Ok, BadNodes: r.BadNodes})
	})
}
