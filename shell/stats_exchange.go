package shell

import (
	"errors"
	"net/http"

	"github.com/ipfs/go-cid"
)

// ErrOffline is what a backend returns (wrapped) for a statistic of the
// network on a node that has none; the shell answers it as Kubo does,
// with a 400 saying the command must run online.
var ErrOffline = errors.New("this command must be run in online mode")

// ExchangeStatsBackend reports how blocks move between the node and its
// peers: Bitswap's counters (stats/bitswap, as Kubo) and the fast path's
// (stats/fastpath, Cairn's own).
type ExchangeStatsBackend interface {
	// BitswapStats reports Bitswap's counters, wantlist and partners;
	// it fails with ErrOffline when the node runs no Bitswap.
	BitswapStats() (BitswapStats, error)
	// FastPathStats reports the fast path's counters, zeros when it is
	// off.
	FastPathStats() FastPathStats
}

// BitswapStats is the body of /api/v0/stats/bitswap: boxo's bitswap.Stat,
// with the field names and types Kubo's `ipfs stats bitswap --enc=json`
// sends. Wantlist CIDs encode as {"/": "<cid>"}.
type BitswapStats struct {
	// Wantlist is the blocks the node is asking its peers for.
	Wantlist []cid.Cid
	// Peers are the partners Bitswap keeps a ledger for: peers with
	// wants pending here.
	Peers []string
	// BlocksReceived and DataReceived count blocks, and their bytes,
	// that peers sent.
	BlocksReceived uint64
	DataReceived   uint64
	// DupBlksReceived and DupDataReceived count blocks received more
	// than once; Cairn does not count them, so they are 0.
	DupBlksReceived uint64
	DupDataReceived uint64
	// MessagesReceived counts Bitswap messages from peers.
	MessagesReceived uint64
	// BlocksSent and DataSent count blocks, and their bytes, sent to
	// peers.
	BlocksSent uint64
	DataSent   uint64
}

// FastPathStats is the body of /api/v0/stats/fastpath: the counters of
// the fast path (files moved as CAR streams over libp2p), since the node
// started.
type FastPathStats struct {
	// Fetches counts fast-path fetches started: a peer held the root.
	Fetches uint64
	// FilesFetched counts fetches that brought all they were asked for.
	FilesFetched uint64
	// FellBack counts fetches that ended early, leaving the rest to
	// Bitswap. Fetches whose reader stopped first count in neither.
	FellBack uint64
	// BlocksReceived and BytesReceived count the verified blocks peers
	// sent.
	BlocksReceived uint64
	BytesReceived  uint64
	// PeersDropped counts peers dropped from a fetch: their stream
	// failed, sent a bad block, or stalled.
	PeersDropped uint64
	// BytesServed counts the bytes sent to peers fetching from this node.
	BytesServed uint64
}

// statsBitswap answers /api/v0/stats/bitswap (and Kubo's older
// /api/v0/bitswap/stat).
func (s *shell) statsBitswap(w http.ResponseWriter, r *http.Request) error {
	st, err := s.backend.BitswapStats()
	if errors.Is(err, ErrOffline) {
		return errorf(kindBadRequest, "stats/bitswap: unable to run offline: %w", err)
	}
	if err != nil {
		return errorf(kindInternal, "stats/bitswap: %w", err)
	}
	// Empty lists are [], not null, for clients that range over them.
	if st.Wantlist == nil {
		st.Wantlist = []cid.Cid{}
	}
	if st.Peers == nil {
		st.Peers = []string{}
	}
	return writeJSON(w, st)
}

// statsFastPath answers /api/v0/stats/fastpath.
func (s *shell) statsFastPath(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, s.backend.FastPathStats())
}
