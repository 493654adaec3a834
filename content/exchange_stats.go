package content

import (
	"errors"
	"fmt"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/ipfs/boxo/bitswap"
)

// ErrOffline is what BitswapStats returns on a node with no network: it
// has no Bitswap to report on.
var ErrOffline = errors.New("this node is offline: it has no Bitswap")

// BitswapStats reports boxo's Bitswap counters (blocks and bytes received
// and sent, messages received), its wantlist and the peers it trades
// with, as Kubo's `ipfs stats bitswap` shows them. Duplicate blocks are
// not counted (the exchange runs WithoutDuplicatedBlockStats), so those
// two fields stay zero. It fails with ErrOffline on an offline node.
func (c *Content) BitswapStats() (bitswap.Stat, error) {
	if c.bswap == nil {
		return bitswap.Stat{}, fmt.Errorf("bitswap stats: %w", ErrOffline)
	}
	st, err := c.bswap.Stat()
	if err != nil {
		return bitswap.Stat{}, fmt.Errorf("bitswap stats: %w", err)
	}
	return *st, nil
}

// FastPathStats reports the fast path's counters (fastpath.Stats): files
// fetched from peers as CAR streams, fetches that fell back to Bitswap,
// verified blocks and bytes received, peers dropped, and bytes served to
// peers. It is all zeros when the fast path is off or the node offline.
func (c *Content) FastPathStats() fastpath.Stats {
	if c.fast == nil {
		return fastpath.Stats{}
	}
	st := c.fast.Stats()
	if c.fastSrv != nil {
		st.BytesServed = c.fastSrv.BytesServed()
	}
	return st
}
