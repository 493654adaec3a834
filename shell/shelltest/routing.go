package shelltest

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
)

// KnownAddrs reports the address of each peer in PeerList.
func (b *Backend) KnownAddrs(context.Context) (map[peer.ID][]ma.Multiaddr, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[peer.ID][]ma.Multiaddr{}
	for _, p := range b.PeerList {
		if p.Addr != nil {
			out[p.ID] = append(out[p.ID], p.Addr)
		}
	}
	return out, nil
}

// FakeUsefulAt is when every fake routing-table peer was last useful.
var FakeUsefulAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// RoutingTables reports a LAN table holding PeerList in bucket 0 and an
// empty WAN table.
func (b *Backend) RoutingTables(context.Context) ([]shell.RoutingTable, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lan := shell.RoutingTable{Name: "lan", Buckets: [][]shell.RoutingPeer{{}}}
	for _, p := range b.PeerList {
		lan.Buckets[0] = append(lan.Buckets[0], shell.RoutingPeer{ID: p.ID, Connected: true, LastUsefulAt: FakeUsefulAt})
	}
	return []shell.RoutingTable{lan, {Name: "wan"}}, nil
}
