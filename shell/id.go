package shell

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
)

// idOutput is /api/v0/id's output in Kubo's shape. Kubo dropped
// ProtocolVersion in v0.22, so it is not sent.
type idOutput struct {
	ID           string
	PublicKey    string
	Addresses    []string
	AgentVersion string
	Protocols    []string
	// Reachability is Cairn's addition: public, private or unknown.
	Reachability string `json:",omitempty"`
}

// id describes this node. Kubo can also describe another peer given as
// "arg"; the shell answers only for itself, and says so otherwise.
func (s *shell) id(w http.ResponseWriter, r *http.Request) error {
	self, err := s.backend.Identity(r.Context())
	if err != nil {
		return fmt.Errorf("reading node identity: %w", err)
	}
	if err := onlySelf(r.URL.Query()["arg"], self.ID); err != nil {
		return err
	}
	out := idOutput{
		ID:           self.ID.String(),
		PublicKey:    self.PublicKey,
		AgentVersion: self.AgentVersion,
		Protocols:    slices.Sorted(slices.Values(self.Protocols)),
		Reachability: self.Reachability,
	}
	// Kubo lists each address with /p2p/<id> appended, sorted.
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: self.ID, Addrs: self.Addresses})
	if err != nil {
		return fmt.Errorf("building addresses: %w", err)
	}
	for _, a := range addrs {
		out.Addresses = append(out.Addresses, a.String())
	}
	slices.Sort(out.Addresses)
	return writeJSON(w, out)
}

func onlySelf(args []string, self peer.ID) error {
	for _, a := range args {
		id, err := peer.Decode(a)
		if err != nil {
			return errorf(kindBadRequest, "invalid peer ID %q: %w", a, err)
		}
		if id != self {
			return errorf(kindBadRequest, "looking up other peers (%s) is not supported yet", id)
		}
	}
	return nil
}
