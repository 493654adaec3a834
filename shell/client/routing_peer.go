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
	ma "github.com/multiformats/go-multiaddr"
)

// Disconnect closes the connections to each peer (addresses ending in
// /p2p/<id>) and returns the shell's report lines
// ("disconnect <id> success").
func (c *Client) Disconnect(ctx context.Context, addrs ...ma.Multiaddr) ([]string, error) {
	resp, err := c.call(ctx, "swarm/disconnect", addrValues(addrs), nil, "")
	if err != nil {
		return nil, err
	}
	var out struct{ Strings []string }
	return out.Strings, readJSON(resp, &out)
}

// FindPeer returns a peer's addresses, found by the daemon.
func (c *Client) FindPeer(ctx context.Context, id peer.ID) (peer.AddrInfo, error) {
	resp, err := c.call(ctx, "routing/findpeer", url.Values{"arg": {id.String()}}, nil, "")
	if err != nil {
		return peer.AddrInfo{}, err
	}
	var found *peer.AddrInfo
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var ev routing.QueryEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("routing/findpeer: decoding event: %w", err)
		}
		if ev.Type == routing.FinalPeer && len(ev.Responses) > 0 {
			found = ev.Responses[0]
		}
		return nil
	})
	if err == nil && found == nil {
		err = fmt.Errorf("routing/findpeer: peer %s not found", id)
	}
	if err != nil {
		return peer.AddrInfo{}, err
	}
	return *found, nil
}

// Provide has the daemon announce each CID (with recursive, every block
// under it) to the DHT now; it returns once all are announced.
func (c *Client) Provide(ctx context.Context, recursive bool, ids ...cid.Cid) error {
	q := cidValues(ids)
	q.Set("recursive", strconv.FormatBool(recursive))
	resp, err := c.call(ctx, "routing/provide", q, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(json.RawMessage) error { return nil })
}
