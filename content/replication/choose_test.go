package replication

import (
	"slices"
	"testing"

	kb "github.com/libp2p/go-libp2p-kbucket"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/test"
)

func testPeers(t *testing.T, n int) []peer.ID {
	out := make([]peer.ID, n)
	for i := range out {
		id, err := test.RandPeerID()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = id
	}
	return out
}

// byDistance agrees with the DHT's own notion of closer, whatever order
// the peers come in.
func TestByDistanceIsKademliasOrder(t *testing.T) {
	root := newDAG(t, 1).root
	peers := testPeers(t, 20)
	sorted := byDistance(root, peers)
	for i := 1; i < len(sorted); i++ {
		if !kb.Closer(sorted[i-1], sorted[i], string(root.Hash())) {
			t.Fatalf("peer %d is not closer than peer %d", i-1, i)
		}
	}
	shuffled := slices.Clone(peers)
	slices.Reverse(shuffled)
	if !slices.Equal(byDistance(root, shuffled), sorted) {
		t.Fatal("order depends on the input order")
	}
}

func TestChoose(t *testing.T) {
	root := newDAG(t, 1).root
	p := byDistance(root, testPeers(t, 6)) // p[0] closest
	for _, tc := range []struct {
		name string
		got  []peer.ID
		want []peer.ID
	}{
		{"candidates closest first", candidates(root, []peer.ID{p[3], p[1], p[5]}, nil, nil), []peer.ID{p[1], p[3], p[5]}},
		{"candidates skip holders", candidates(root, p, []peer.ID{p[0], p[2]}, nil), []peer.ID{p[1], p[3], p[4], p[5]}},
		{"candidates skip refusers", candidates(root, p, nil, func(id peer.ID) bool { return id == p[0] }), p[1:]},
		{"candidates once each", candidates(root, []peer.ID{p[2], p[2]}, nil, nil), []peer.ID{p[2]}},
		{"surplus none", surplus(root, p[:3], 3), nil},
		{"surplus farthest first", surplus(root, p[:5], 3), []peer.ID{p[4], p[3]}},
		{"surplus keeps the origin", surplus(root, p[:5], 3, p[4]), []peer.ID{p[3], p[2]}},
		{"surplus keeps origin and self", surplus(root, p[:4], 2, p[3], p[2]), []peer.ID{p[1], p[0]}},
		{"leaders origin first", leaders(root, p[4], []peer.ID{p[2], p[4], p[0]}), []peer.ID{p[4], p[0], p[2]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Equal(tc.got, tc.want) {
				t.Fatalf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
}
