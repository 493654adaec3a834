package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// FindProvs calls found for each provider of id as the shell finds them,
// up to max (0 for the shell's default, 20). It returns when the search
// ends, found returns an error, or ctx is done.
func (c *Client) FindProvs(ctx context.Context, id cid.Cid, max int, found func(peer.AddrInfo) error) error {
	q := url.Values{"arg": {id.String()}}
	if max > 0 {
		q.Set("num-providers", strconv.Itoa(max))
	}
	resp, err := c.call(ctx, "dht/findprovs", q, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(raw json.RawMessage) error {
		var ev routing.QueryEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("dht/findprovs: decoding event: %w", err)
		}
		if ev.Type != routing.Provider {
			return nil // Kubo also streams query progress; only providers matter here
		}
		for _, p := range ev.Responses {
			if err := found(*p); err != nil {
				return err
			}
		}
		return nil
	})
}
