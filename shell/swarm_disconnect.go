package shell

import (
	"context"
	"fmt"
	"net/http"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// DisconnectBackend is a node that can close its connections to a peer.
type DisconnectBackend interface {
	// Disconnect closes the connections to the peer addr names (it ends
	// in /p2p/<id>): all of them, or with a transport part before /p2p
	// only those to that address. A peer not connected is an error.
	Disconnect(ctx context.Context, addr ma.Multiaddr) error
}

// swarmDisconnect closes the connections to each peer, as Kubo's
// swarm/disconnect: {"Strings": ["disconnect <id> success"]}.
func (s *shell) swarmDisconnect(w http.ResponseWriter, r *http.Request) error {
	db, ok := s.backend.(DisconnectBackend)
	if !ok {
		return errorf(kindInternal, "this node cannot close connections through the API")
	}
	addrs, err := p2pAddrArgs(r.URL.Query()["arg"])
	if err != nil {
		return err
	}
	out := stringList{Strings: make([]string, 0, len(addrs))}
	for _, a := range addrs {
		_, id := peer.SplitAddr(a)
		if err := db.Disconnect(r.Context(), a); err != nil {
			return fmt.Errorf("disconnect %s failure: %w", id, err)
		}
		out.Strings = append(out.Strings, "disconnect "+id.String()+" success")
	}
	return writeJSON(w, out)
}
