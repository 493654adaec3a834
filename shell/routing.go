package shell

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// RoutingTable is one DHT's routing table ("lan" or "wan") for stats/dht.
type RoutingTable struct {
	Name string
	// Buckets[i] holds the peers whose keys share i leading bits with
	// ours: bucket 0 is the far half of the key space.
	Buckets [][]RoutingPeer
}

// RoutingPeer is one peer of a routing table.
type RoutingPeer struct {
	ID           peer.ID
	Connected    bool
	AgentVersion string
	// LastUsefulAt is when the peer last answered a query usefully (zero:
	// never). Peers that stay useless are the first evicted.
	LastUsefulAt time.Time
	// LastQueriedAt is when the peer last answered one of our queries.
	LastQueriedAt time.Time
	// AddedAt is when the peer entered the table.
	AddedAt time.Time
}

// dhtStat is stats/dht's output in Kubo's shape, one per DHT, plus
// AddedAt, which Kubo does not send.
type dhtStat struct {
	Name    string
	Buckets []dhtBucket
}

type dhtBucket struct {
	Peers []dhtPeerInfo
}

type dhtPeerInfo struct {
	ID            string
	Connected     bool
	AgentVersion  string
	LastUsefulAt  string
	LastQueriedAt string
	AddedAt       string
}

// statsDHT reports the routing tables, bucket by bucket, one JSON object
// per table as Kubo streams them. "arg" may name tables (lan, wan).
func (s *shell) statsDHT(w http.ResponseWriter, r *http.Request) error {
	tables, err := s.backend.RoutingTables(r.Context())
	if err != nil {
		return fmt.Errorf("reading routing tables: %w", err)
	}
	want := r.URL.Query()["arg"]
	for _, name := range want {
		if !slices.ContainsFunc(tables, func(t RoutingTable) bool { return t.Name == name }) {
			return errorf(kindBadRequest, "unknown routing table %q: this node has lan and wan", name)
		}
	}
	out := &jsonStream{w: w}
	for _, t := range tables {
		if len(want) > 0 && !slices.Contains(want, t.Name) {
			continue
		}
		if err := out.emit(tableStat(t)); err != nil {
			return err
		}
	}
	out.start()
	return nil
}

func tableStat(t RoutingTable) dhtStat {
	st := dhtStat{Name: t.Name, Buckets: make([]dhtBucket, len(t.Buckets))}
	for i, b := range t.Buckets {
		st.Buckets[i].Peers = make([]dhtPeerInfo, 0, len(b))
		for _, p := range b {
			st.Buckets[i].Peers = append(st.Buckets[i].Peers, dhtPeerInfo{
				ID: p.ID.String(), Connected: p.Connected, AgentVersion: p.AgentVersion,
				LastUsefulAt: timeText(p.LastUsefulAt), LastQueriedAt: timeText(p.LastQueriedAt), AddedAt: timeText(p.AddedAt),
			})
		}
	}
	return st
}

// timeText is RFC 3339, or "" for a time that never happened.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
