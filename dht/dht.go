// Package dht runs Cairn's Kademlia routing: a LAN DHT and a WAN DHT side by
// side (go-libp2p-kad-dht's dual DHT), so peers with only private addresses
// still route among themselves while public peers join the wide network.
package dht

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	kad "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
	ma "github.com/multiformats/go-multiaddr"
)

// DHT is the node's content and peer routing. It is a routing.Routing, so
// Bitswap and the provider system use it directly.
type DHT struct {
	*dual.DHT
}

var _ routing.Routing = (*DHT)(nil)

// New starts the LAN and WAN DHTs on h. Provider and value records are kept
// in ds under /dht so they survive restarts. bootstrap seeds the routing
// tables whenever they run empty.
func New(h host.Host, ds datastore.Batching, cfg Config, bootstrap []peer.AddrInfo) (*DHT, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mode, err := kadMode(cfg.Mode)
	if err != nil {
		return nil, err
	}
	both := []kad.Option{
		kad.ProtocolPrefix(protocol.ID(cfg.ProtocolPrefix)),
		kad.Datastore(namespace.Wrap(ds, datastore.NewKey("/dht"))),
		kad.RoutingTableRefreshPeriod(cfg.RefreshInterval),
	}
	if len(bootstrap) > 0 {
		both = append(both, kad.BootstrapPeers(bootstrap...))
	}
	opts := []dual.Option{
		dual.DHTOption(both...),
		// ProtocolPrefix replaced the "/lan" that dual.New had appended to
		// the LAN DHT's prefix; append it again, so the LAN DHT speaks
		// <prefix>/lan/kad/1.0.0 as Kubo's does, not the WAN's protocol.
		dual.LanDHTOption(kad.ProtocolExtension(dual.LanExtension)),
		dual.WanDHTOption(kad.Mode(mode)),
	}
	if cfg.LoopbackOnLAN {
		// Later options win: this replaces the dual DHT's loopback filter.
		opts = append(opts, dual.LanDHTOption(kad.AddressFilter(allAddrs)))
	}
	d, err := dual.New(h, opts...)
	if err != nil {
		return nil, fmt.Errorf("start dht: %w", err)
	}
	return &DHT{DHT: d}, nil
}

// Provide announces key on every DHT that has peers. The dual DHT announces
// on the WAN alone once it has any WAN peer, which hides content from LAN
// neighbours that cannot reach the WAN; Cairn announces on both.
func (d *DHT) Provide(ctx context.Context, key cid.Cid, announce bool) error {
	lanActive := d.LAN.RoutingTable().Size() > 0
	if !d.WANActive() {
		return d.LAN.Provide(ctx, key, announce)
	}
	if !lanActive {
		return d.WAN.Provide(ctx, key, announce)
	}
	errc := make(chan error, 1)
	go func() { errc <- d.LAN.Provide(ctx, key, announce) }()
	wanErr := d.WAN.Provide(ctx, key, announce)
	lanErr := <-errc
	if wanErr != nil && lanErr != nil {
		return fmt.Errorf("provide %s: %w", key, errors.Join(wanErr, lanErr))
	}
	return nil
}

// Peers reports how many peers each routing table holds.
func (d *DHT) Peers() (lan, wan int) {
	return d.LAN.RoutingTable().Size(), d.WAN.RoutingTable().Size()
}

func kadMode(mode string) (kad.ModeOpt, error) {
	switch mode {
	case ModeAuto:
		return kad.ModeAuto, nil
	case ModeServer:
		return kad.ModeServer, nil
	case ModeClient:
		return kad.ModeClient, nil
	}
	return 0, fmt.Errorf("dht.mode: unknown mode %q", mode)
}

// allAddrs keeps every address, loopback included, in LAN DHT records.
func allAddrs(addrs []ma.Multiaddr) []ma.Multiaddr { return addrs }
