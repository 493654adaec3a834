package client

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// KnownAddrs lists every address the node knows for other peers, from
// /api/v0/swarm/addrs.
func (c *Client) KnownAddrs(ctx context.Context) (map[peer.ID][]ma.Multiaddr, error) {
	resp, err := c.call(ctx, "swarm/addrs", nil, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct{ Addrs map[string][]string }
	if err := readJSON(resp, &out); err != nil {
		return nil, err
	}
	known := make(map[peer.ID][]ma.Multiaddr, len(out.Addrs))
	for s, addrs := range out.Addrs {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("swarm/addrs: invalid peer ID %q: %w", s, err)
		}
		if known[id], err = parseMultiaddrs(addrs); err != nil {
			return nil, fmt.Errorf("swarm/addrs: %w", err)
		}
	}
	return known, nil
}
