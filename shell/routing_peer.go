package shell

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// PeerRoutingBackend is a node that can find peers and announce content
// in the DHT on request.
type PeerRoutingBackend interface {
	// FindPeer returns a peer's addresses: those known, else found by a
	// DHT search.
	FindPeer(ctx context.Context, id peer.ID) (peer.AddrInfo, error)
	// Provide announces c (with recursive, every block under it) to the
	// DHT now. The blocks must be held locally.
	Provide(ctx context.Context, c cid.Cid, recursive bool) error
}

func (s *shell) peerRouting() (PeerRoutingBackend, error) {
	pb, ok := s.backend.(PeerRoutingBackend)
	if !ok {
		return nil, errorf(kindInternal, "this node has no DHT to ask")
	}
	return pb, nil
}

// findPeer sends the peer's addresses as Kubo's routing event of type
// FinalPeer (2).
func (s *shell) findPeer(w http.ResponseWriter, r *http.Request) error {
	args := r.URL.Query()["arg"]
	if len(args) != 1 {
		return errorf(kindBadRequest, "findpeer takes one peer ID, got %d arguments", len(args))
	}
	id, err := peer.Decode(args[0])
	if err != nil {
		return errorf(kindBadRequest, "invalid peer ID %q: %w", args[0], err)
	}
	pb, err := s.peerRouting()
	if err != nil {
		return err
	}
	info, err := pb.FindPeer(r.Context(), id)
	if err != nil {
		return timedOut(r.Context(), fmt.Errorf("finding peer %s: %w", id, err), fmt.Sprintf("peer %s not found", id))
	}
	out := &jsonStream{w: w}
	return out.emit(&routing.QueryEvent{Type: routing.FinalPeer, Responses: []*peer.AddrInfo{&info}})
}

// provide announces each CID, as Kubo's routing/provide; the answer is an
// empty stream of events once every announcement is done.
func (s *shell) provide(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	recursive, err := boolParam(q, "recursive", false)
	if err != nil {
		return err
	}
	pb, err := s.peerRouting()
	if err != nil {
		return err
	}
	for _, c := range cids {
		if err := pb.Provide(r.Context(), c, recursive); err != nil {
			return timedOut(r.Context(), fmt.Errorf("provide %s: %w", c, err), fmt.Sprintf("could not announce %s", c))
		}
	}
	(&jsonStream{w: w}).start()
	return nil
}
