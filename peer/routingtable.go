package peer

import (
	"context"
	"slices"

	"github.com/cairnnet/cairn/shell"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// KnownAddrs lists the peer store's addresses of every other peer.
func (b *backend) KnownAddrs(context.Context) (map[libp2ppeer.ID][]ma.Multiaddr, error) {
	ps := b.n.host.Peerstore()
	out := map[libp2ppeer.ID][]ma.Multiaddr{}
	for _, id := range ps.PeersWithAddrs() {
		if id == b.n.host.ID() {
			continue
		}
		if addrs := ps.Addrs(id); len(addrs) > 0 {
			out[id] = addrs
		}
	}
	return out, nil
}

// RoutingTables describes the LAN and WAN routing tables.
func (b *backend) RoutingTables(context.Context) ([]shell.RoutingTable, error) {
	return []shell.RoutingTable{
		routingTable("lan", b.n.host, b.n.routing.LAN.RoutingTable()),
		routingTable("wan", b.n.host, b.n.routing.WAN.RoutingTable()),
	}, nil
}

// routingTable groups a table's peers into buckets by the length of the
// prefix their keys share with ours, which is what a Kademlia bucket is.
// (kbucket folds every deeper prefix into its last bucket; listing them
// by their own prefix length shows how close the closest peers are.)
func routingTable(name string, h host.Host, rt *kb.RoutingTable) shell.RoutingTable {
	self := kb.ConvertPeerID(h.ID())
	t := shell.RoutingTable{Name: name}
	for _, pi := range rt.GetPeerInfos() {
		cpl := kb.CommonPrefixLen(self, kb.ConvertPeerID(pi.Id))
		for len(t.Buckets) <= cpl {
			t.Buckets = append(t.Buckets, []shell.RoutingPeer{})
		}
		agent, _ := h.Peerstore().Get(pi.Id, "AgentVersion")
		agentStr, _ := agent.(string)
		t.Buckets[cpl] = append(t.Buckets[cpl], shell.RoutingPeer{
			ID:            pi.Id,
			Connected:     h.Network().Connectedness(pi.Id) == network.Connected,
			AgentVersion:  agentStr,
			LastUsefulAt:  pi.LastUsefulAt,
			LastQueriedAt: pi.LastSuccessfulOutboundQueryAt,
			AddedAt:       pi.AddedAt,
		})
	}
	for _, bucket := range t.Buckets {
		slices.SortFunc(bucket, func(a, b shell.RoutingPeer) int { return b.LastUsefulAt.Compare(a.LastUsefulAt) })
	}
	return t
}
