package client

import (
	"context"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Identity is the node's self-description from /api/v0/id.
type Identity struct {
	ID           peer.ID
	PublicKey    string // base64 of the protobuf-encoded key
	Addresses    []ma.Multiaddr
	AgentVersion string
	Protocols    []string
	Reachability string // public, private or unknown; "" from a Kubo daemon
}

// ID describes the node behind the shell.
func (c *Client) ID(ctx context.Context) (Identity, error) {
	resp, err := c.call(ctx, "id", nil, nil, "")
	if err != nil {
		return Identity{}, err
	}
	var out struct {
		ID           string
		PublicKey    string
		Addresses    []string
		AgentVersion string
		Protocols    []string
		Reachability string
	}
	if err := readJSON(resp, &out); err != nil {
		return Identity{}, err
	}
	id, err := peer.Decode(out.ID)
	if err != nil {
		return Identity{}, fmt.Errorf("id: the shell sent an invalid peer ID %q: %w", out.ID, err)
	}
	addrs, err := parseMultiaddrs(out.Addresses)
	if err != nil {
		return Identity{}, fmt.Errorf("id: %w", err)
	}
	return Identity{ID: id, PublicKey: out.PublicKey, Addresses: addrs, AgentVersion: out.AgentVersion, Protocols: out.Protocols, Reachability: out.Reachability}, nil
}

func parseMultiaddrs(ss []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(ss))
	for _, s := range ss {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid multiaddr %q: %w", s, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// Version is the daemon's build, from /api/v0/version.
type Version struct {
	Version string
	Commit  string
	Repo    string
	System  string
	Golang  string
}

// Version reports the daemon's version.
func (c *Client) Version(ctx context.Context) (Version, error) {
	resp, err := c.call(ctx, "version", nil, nil, "")
	if err != nil {
		return Version{}, err
	}
	var v Version
	if err := readJSON(resp, &v); err != nil {
		return Version{}, err
	}
	return v, nil
}
