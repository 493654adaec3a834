package shell

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// StatusBackend is implemented by a Backend that can say what moves
// through it: bandwidth (stats/bw), reads in flight and what it knows of
// each peer. Without it stats/bw answers 404 and status leaves those out.
type StatusBackend interface {
	// Bandwidth reports the bytes moved: all traffic, or only proto's,
	// or only p's, when one is given.
	Bandwidth(proto protocol.ID, p peer.ID) Bandwidth
	// Transfers lists the reads of content running now, oldest first.
	Transfers() []Transfer
	// PeerDetail says what identify told of p.
	PeerDetail(p peer.ID) PeerDetail
}

// Transfer is one read of content in flight (cat, get, dag export).
type Transfer struct {
	Cid     cid.Cid
	Kind    string    // "read" or "export"
	Bytes   int64     // read so far
	Size    int64     // bytes the read will take; -1 when unknown
	Fetch   bool      // the node did not hold the content when the read began
	Started time.Time // when the read began
}

// PeerDetail is what identify told of a peer.
type PeerDetail struct {
	AgentVersion string
	Protocols    []string
}

// Status is /api/v0/status's body: one answer to "who am I, how am I
// reached, who do I know, how full am I, what is moving now" for
// `cairn status` and the web page. Cairn's own command; Kubo has none.
type Status struct {
	ID           string
	AgentVersion string
	Reachability string   // public, private or unknown (AutoNAT)
	Addresses    []string // with /p2p/<id>: what other peers bootstrap from
	GatewayURL   string   `json:",omitempty"`
	Peers        PeerCounts
	Routing      []TableStatus
	Store        StoreStatus
	Bandwidth    *Bandwidth       `json:",omitempty"`
	Transfers    []TransferStatus // [] when none
	// PeerList is every connected peer, with peers=true only.
	PeerList []PeerStatus `json:",omitempty"`
}

// PeerCounts counts connected peers by the direction of their connection.
type PeerCounts struct {
	Connected, Inbound, Outbound int
}

// TableStatus is a routing table's size, bucket by bucket (bucket i
// holds the peers whose keys share i leading bits with ours).
type TableStatus struct {
	Name    string
	Peers   int
	Buckets []int
}

// StoreStatus is what the store holds against its limit.
type StoreStatus struct {
	NumObjects uint64
	RepoSize   uint64
	StorageMax uint64 // 0: unlimited
}

// TransferStatus is a Transfer as status reports it.
type TransferStatus struct {
	Cid     string
	Kind    string
	Bytes   int64
	Size    int64
	Fetch   bool
	Seconds float64 // since the read began
}

// PeerStatus is one connected peer in status's PeerList.
type PeerStatus struct {
	ID           string
	Addr         string
	Direction    string  // inbound or outbound
	LatencyMs    float64 // 0: not measured yet
	AgentVersion string  `json:",omitempty"`
	Protocols    []string
}

// status answers /api/v0/status; peers=true adds every peer's detail.
func (s *shell) status(w http.ResponseWriter, r *http.Request) error {
	withPeers, err := boolParam(r.URL.Query(), "peers", false)
	if err != nil {
		return err
	}
	st, err := s.readStatus(r.Context(), withPeers)
	if err != nil {
		return err
	}
	return writeJSON(w, st)
}

// readStatus gathers the status from the backend.
func (s *shell) readStatus(ctx context.Context, withPeers bool) (Status, error) {
	self, err := s.backend.Identity(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: reading identity: %w", err)
	}
	st := Status{ID: self.ID.String(), AgentVersion: self.AgentVersion, Reachability: self.Reachability,
		GatewayURL: s.cfg.GatewayURL, Transfers: []TransferStatus{}}
	if st.Addresses, err = p2pAddrs(self); err != nil {
		return Status{}, err
	}
	peers, err := s.backend.Peers(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: listing peers: %w", err)
	}
	st.Peers = countPeers(peers)
	if st.Routing, err = s.routingStatus(ctx); err != nil {
		return Status{}, err
	}
	repo, err := s.backend.RepoStat(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: reading the store: %w", err)
	}
	st.Store = StoreStatus{NumObjects: repo.NumObjects, RepoSize: repo.RepoSize, StorageMax: repo.StorageMax}
	if sb, ok := s.backend.(StatusBackend); ok {
		bw := sb.Bandwidth("", "")
		st.Bandwidth = &bw
		st.Transfers = transferStatuses(sb.Transfers())
	}
	if withPeers {
		st.PeerList = s.peerStatuses(peers)
	}
	return st, nil
}

// p2pAddrs lists self's addresses with /p2p/<id>, sorted.
func p2pAddrs(self Identity) ([]string, error) {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: self.ID, Addrs: self.Addresses})
	if err != nil {
		return nil, fmt.Errorf("status: building addresses: %w", err)
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	slices.Sort(out)
	return out, nil
}

func countPeers(peers []PeerInfo) PeerCounts {
	c := PeerCounts{Connected: len(peers)}
	for _, p := range peers {
		if p.Direction == "inbound" {
			c.Inbound++
		} else {
			c.Outbound++
		}
	}
	return c
}

func (s *shell) routingStatus(ctx context.Context) ([]TableStatus, error) {
	tables, err := s.backend.RoutingTables(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: reading routing tables: %w", err)
	}
	out := make([]TableStatus, len(tables))
	for i, t := range tables {
		out[i] = TableStatus{Name: t.Name, Buckets: make([]int, len(t.Buckets))}
		for j, b := range t.Buckets {
			out[i].Buckets[j] = len(b)
			out[i].Peers += len(b)
		}
	}
	return out, nil
}

func transferStatuses(ts []Transfer) []TransferStatus {
	out := make([]TransferStatus, len(ts))
	for i, t := range ts {
		out[i] = TransferStatus{Cid: t.Cid.String(), Kind: t.Kind, Bytes: t.Bytes, Size: t.Size, Fetch: t.Fetch,
			Seconds: time.Since(t.Started).Seconds()}
	}
	return out
}

// peerStatuses details each peer, sorted by ID so that a page's list
// keeps its order between two polls.
func (s *shell) peerStatuses(peers []PeerInfo) []PeerStatus {
	sb, _ := s.backend.(StatusBackend)
	out := make([]PeerStatus, len(peers))
	for i, p := range peers {
		ps := PeerStatus{ID: p.ID.String(), Direction: p.Direction, LatencyMs: float64(p.Latency) / float64(time.Millisecond), Protocols: []string{}}
		if p.Addr != nil {
			ps.Addr = p.Addr.String()
		}
		if sb != nil {
			d := sb.PeerDetail(p.ID)
			ps.AgentVersion = d.AgentVersion
			ps.Protocols = append(ps.Protocols, d.Protocols...)
		}
		out[i] = ps
	}
	slices.SortFunc(out, func(a, b PeerStatus) int { return strings.Compare(a.ID, b.ID) })
	return out
}
