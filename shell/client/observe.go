package client

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Bandwidth is /api/v0/stats/bw's answer, in Kubo's shape: bytes in and
// out since the node started, and the current rates in bytes per second.
type Bandwidth struct {
	TotalIn  int64
	TotalOut int64
	RateIn   float64
	RateOut  float64
}

// StatsBW reports the node's bandwidth: all traffic, or only proto's
// when proto is not empty.
func (c *Client) StatsBW(ctx context.Context, proto string) (Bandwidth, error) {
	q := url.Values{}
	if proto != "" {
		q.Set("proto", proto)
	}
	resp, err := c.call(ctx, "stats/bw", q, nil, "")
	if err != nil {
		return Bandwidth{}, err
	}
	var out Bandwidth
	if err := readJSON(resp, &out); err != nil {
		return Bandwidth{}, fmt.Errorf("stats/bw: %w", err)
	}
	return out, nil
}

// SetLogLevel sets a log subsystem's level ("all" for every one) and
// returns the node's one-line answer.
func (c *Client) SetLogLevel(ctx context.Context, subsystem, level string) (string, error) {
	resp, err := c.call(ctx, "log/level", url.Values{"arg": {subsystem, level}}, nil, "")
	if err != nil {
		return "", err
	}
	var out struct{ Message string }
	if err := readJSON(resp, &out); err != nil {
		return "", fmt.Errorf("log/level: %w", err)
	}
	return strings.TrimSpace(out.Message), nil
}

// Status is /api/v0/status's answer: who the node is, how it is reached,
// its peers, routing tables and store, and what is moving now.
type Status struct {
	ID           string
	AgentVersion string
	Reachability string
	Addresses    []string // with /p2p/<id>
	GatewayURL   string
	Peers        struct{ Connected, Inbound, Outbound int }
	Routing      []struct {
		Name    string
		Peers   int
		Buckets []int
	}
	Store struct {
		NumObjects, RepoSize, StorageMax uint64
	}
	Bandwidth *Bandwidth // nil when the node counts none
	Transfers []Transfer
}

// Transfer is one read of content in flight on the node.
type Transfer struct {
	Cid     string
	Kind    string
	Bytes   int64
	Size    int64 // -1 when unknown
	Fetch   bool  // from the network
	Seconds float64
}

// Status reports the node's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	if err := c.stats(ctx, "status", &out); err != nil {
		return Status{}, err
	}
	return out, nil
}
