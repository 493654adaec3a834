package client

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Peer is one connection from /api/v0/swarm/peers.
type Peer struct {
	ID        peer.ID
	Addr      ma.Multiaddr
	Latency   time.Duration // 0 when not measured yet
	Direction string        // "inbound", "outbound" or "" if unknown
}

// Peers lists the node's connected peers, with latency and direction.
func (c *Client) Peers(ctx context.Context) ([]Peer, error) {
	resp, err := c.call(ctx, "swarm/peers", url.Values{"latency": {"true"}, "direction": {"true"}}, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct {
		Peers []struct {
			Addr, Peer, Latency string
			Direction           network.Direction
		}
	}
	if err := readJSON(resp, &out); err != nil {
		return nil, err
	}
	peers := make([]Peer, 0, len(out.Peers))
	for _, p := range out.Peers {
		id, err := peer.Decode(p.Peer)
		if err != nil {
			return nil, fmt.Errorf("swarm/peers: invalid peer ID %q: %w", p.Peer, err)
		}
		addr, err := ma.NewMultiaddr(p.Addr)
		if err != nil {
			return nil, fmt.Errorf("swarm/peers: invalid address %q: %w", p.Addr, err)
		}
		lat, _ := time.ParseDuration(p.Latency) // "n/a" stays 0
		peers = append(peers, Peer{ID: id, Addr: addr, Latency: lat, Direction: directionName(p.Direction)})
	}
	return peers, nil
}

func directionName(d network.Direction) string {
	switch d {
	case network.DirInbound:
		return "inbound"
	case network.DirOutbound:
		return "outbound"
	}
	return ""
}

// Connect dials each address, which must end in /p2p/<peer-id>, and
// returns the shell's report lines ("connect <id> success").
func (c *Client) Connect(ctx context.Context, addrs ...ma.Multiaddr) ([]string, error) {
	q := url.Values{}
	for _, a := range addrs {
		q.Add("arg", a.String())
	}
	resp, err := c.call(ctx, "swarm/connect", q, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct{ Strings []string }
	if err := readJSON(resp, &out); err != nil {
		return nil, err
	}
	return out.Strings, nil
}
