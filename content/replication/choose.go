package replication

import (
	"slices"

	"github.com/ipfs/go-cid"
	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Holders are chosen as Kademlia chooses who stores a key: by XOR
// distance between the peer's ID and the root's multihash, in the DHT's
// own key space, so any peer can work out who should hold what.

// byDistance returns peers sorted closest to root first (a new slice).
func byDistance(root cid.Cid, peers []peer.ID) []peer.ID {
	return kb.SortClosestPeers(slices.Clone(peers), kb.ConvertKey(string(root.Hash())))
}

// candidates returns the peers to ask to hold root, closest first: the
// known peers, less those already holding it and those skip refuses.
func candidates(root cid.Cid, known []peer.ID, holding []peer.ID, skip func(peer.ID) bool) []peer.ID {
	var out []peer.ID
	for _, p := range known {
		if !slices.Contains(holding, p) && !slices.Contains(out, p) && (skip == nil || !skip(p)) {
			out = append(out, p)
		}
	}
	return byDistance(root, out)
}

// surplus returns the live holders to release so that want remain: the
// farthest from root first, never one of keep (the origin, whose copy is
// its user's pin, and the peer deciding).
func surplus(root cid.Cid, live []peer.ID, want int, keep ...peer.ID) []peer.ID {
	extra := len(live) - want
	if extra <= 0 {
		return nil
	}
	sorted := byDistance(root, live)
	var out []peer.ID
	for i := len(sorted) - 1; i >= 0 && len(out) < extra; i-- {
		if !slices.Contains(keep, sorted[i]) {
			out = append(out, sorted[i])
		}
	}
	return out
}

// leaders returns who leads the repair of a record, in turn: the origin
// while it lives, then the holders closest to root first. The first of
// them that answers leads.
func leaders(root cid.Cid, origin peer.ID, holders []peer.ID) []peer.ID {
	rest := slices.DeleteFunc(slices.Clone(holders), func(p peer.ID) bool { return p == origin })
	return append([]peer.ID{origin}, byDistance(root, rest)...)
}
