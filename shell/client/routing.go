package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// RoutingTable is one DHT's routing table ("lan" or "wan") from
// /api/v0/stats/dht: Buckets[i] holds the peers sharing i leading key
// bits with the node.
type RoutingTable struct {
	Name    string
	Buckets [][]RoutingPeer
}

// RoutingPeer is one peer of a routing table. Zero times mean never.
type RoutingPeer struct {
	ID            peer.ID
	Connected     bool
	AgentVersion  string
	LastUsefulAt  time.Time
	LastQueriedAt time.Time
	AddedAt       time.Time
}

// RoutingTables reads the node's routing tables; names, if given, picks
// tables (lan, wan).
func (c *Client) RoutingTables(ctx context.Context, names ...string) ([]RoutingTable, error) {
	q := url.Values{}
	for _, n := range names {
		q.Add("arg", n)
	}
	resp, err := c.call(ctx, "stats/dht", q, nil, "")
	if err != nil {
		return nil, err
	}
	// One JSON object per table, as Kubo streams them.
	var tables []RoutingTable
	err = eachJSON(resp, func(raw json.RawMessage) error {
		t, err := decodeTable(raw)
		if err != nil {
			return fmt.Errorf("stats/dht: %w", err)
		}
		tables = append(tables, t)
		return nil
	})
	return tables, err
}

func decodeTable(raw json.RawMessage) (RoutingTable, error) {
	var st struct {
		Name    string
		Buckets []struct {
			Peers []struct {
				ID, AgentVersion                     string
				Connected                            bool
				LastUsefulAt, LastQueriedAt, AddedAt string
			}
		}
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return RoutingTable{}, err
	}
	t := RoutingTable{Name: st.Name, Buckets: make([][]RoutingPeer, len(st.Buckets))}
	for i, b := range st.Buckets {
		t.Buckets[i] = make([]RoutingPeer, 0, len(b.Peers))
		for _, p := range b.Peers {
			id, err := peer.Decode(p.ID)
			if err != nil {
				return RoutingTable{}, fmt.Errorf("invalid peer ID %q: %w", p.ID, err)
			}
			t.Buckets[i] = append(t.Buckets[i], RoutingPeer{
				ID: id, Connected: p.Connected, AgentVersion: p.AgentVersion,
				LastUsefulAt: parseTime(p.LastUsefulAt), LastQueriedAt: parseTime(p.LastQueriedAt), AddedAt: parseTime(p.AddedAt),
			})
		}
	}
	return t, nil
}

// parseTime reads an RFC 3339 time; anything else (Kubo sends other
// formats, "" means never) is the zero time.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
