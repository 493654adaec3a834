package client

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// BitswapStats is Bitswap's side of the node, from /api/v0/stats/bitswap,
// in Kubo's shape.
type BitswapStats struct {
	Wantlist         []cid.Cid // blocks the node is asking peers for
	Peers            []string  // peers with wants pending at the node
	BlocksReceived   uint64
	DataReceived     uint64 // bytes of the blocks received
	DupBlksReceived  uint64 // 0 on Cairn, which does not count duplicates
	DupDataReceived  uint64
	MessagesReceived uint64
	BlocksSent       uint64
	DataSent         uint64 // bytes of the blocks sent
}

// FastPathStats are the fast path's counters, from
// /api/v0/stats/fastpath.
type FastPathStats struct {
	Fetches        uint64 // fetches started: a peer held the root
	FilesFetched   uint64 // fetches that brought all they were asked for
	FellBack       uint64 // fetches that ended early, left to Bitswap
	BlocksReceived uint64 // verified blocks received from peers
	BytesReceived  uint64
	PeersDropped   uint64 // peers dropped from a fetch: failed, bad or stalled
	BytesServed    uint64 // bytes sent to peers fetching from the node
}

// StatsBitswap reports the node's Bitswap counters, wantlist and partners.
func (c *Client) StatsBitswap(ctx context.Context) (BitswapStats, error) {
	var out BitswapStats
	if err := c.stats(ctx, "stats/bitswap", &out); err != nil {
		return BitswapStats{}, err
	}
	return out, nil
}

// StatsFastPath reports the node's fast-path counters.
func (c *Client) StatsFastPath(ctx context.Context) (FastPathStats, error) {
	var out FastPathStats
	if err := c.stats(ctx, "stats/fastpath", &out); err != nil {
		return FastPathStats{}, err
	}
	return out, nil
}

// stats calls the statistic cmd and decodes its JSON into out.
func (c *Client) stats(ctx context.Context, cmd string, out any) error {
	resp, err := c.call(ctx, cmd, nil, nil, "")
	if err != nil {
		return err
	}
	if err := readJSON(resp, out); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}
