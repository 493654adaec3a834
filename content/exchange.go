package content

import (
	"context"
	"slices"
	"time"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/boxo/blockstore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Bitswap settings that differ from boxo's defaults.
const (
	// providerSearchDelay is how long a new session asks only the peers
	// it is already connected to before it also asks the router.
	// boxo's 1 s gives broadcasts to connected peers time to answer
	// first; a Cairn node has few connections, so the holder is usually
	// found through the router, and waiting a second before asking is
	// pure latency. Not 0:
	// the same delay paces the session's idle rebroadcasts, and 0 would
	// turn them into a busy loop.
	providerSearchDelay = 100 * time.Millisecond
	// maxOutstandingBytesPerPeer bounds the bytes the server has queued
	// for one peer. boxo's 1 MiB is exactly one leaf under the 1 MiB
	// chunking of unixfs-v1-2025, which would serve a peer one block per
	// round trip; 4 MiB keeps a few leaves in flight while still bounding
	// the memory one peer can pin in the server.
	maxOutstandingBytesPerPeer = 4 << 20
)

// bitswapProtocols are the Bitswap versions spoken, newest first (boxo's
// default list, spelled out so that stopBitswap can remove their handlers).
var bitswapProtocols = []protocol.ID{
	bsnet.ProtocolBitswap,
	bsnet.ProtocolBitswapOneOne,
	bsnet.ProtocolBitswapOneZero,
	bsnet.ProtocolBitswapNoVers,
}

// newBitswap starts a Bitswap client and server on h, serving and storing
// through bstore (which verifies every block both ways) and finding
// providers through r (nil: only connected peers are asked). It runs until
// stopBitswap.
func newBitswap(ctx context.Context, h host.Host, r Router, bstore blockstore.Blockstore) *bitswap.Bitswap {
	var finder routing.ContentDiscovery
	if r != nil {
		finder = r
	}
	// A copy: bsnet rewrites the slice it is given in place (prefixing
	// each protocol), which raced between content layers built at once.
	net := bsnet.NewFromIpfsHost(h, bsnet.SupportedProtocols(slices.Clone(bitswapProtocols)))
	return bitswap.New(ctx, net, finder, bstore,
		bitswap.ProviderSearchDelay(providerSearchDelay),
		bitswap.MaxOutstandingBytesPerPeer(maxOutstandingBytesPerPeer),
		// The duplicate-block statistic costs a blockstore Has (a pebble
		// read) per received block, for a number nobody reads.
		bitswap.WithoutDuplicatedBlockStats(),
	)
}

// stopBitswap closes bs and takes its protocols off h: boxo's Close leaves
// the stream handlers in place, which would keep feeding a closed Bitswap
// for as long as the host lives.
func stopBitswap(h host.Host, bs *bitswap.Bitswap) error {
	err := bs.Close()
	for _, p := range bitswapProtocols {
		h.RemoveStreamHandler(p)
	}
	return err
}
