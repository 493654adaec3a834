package shell

import (
	"fmt"
	"net/http"
	"slices"
)

// addrsOutput is swarm/addrs' output in Kubo's shape: every known address
// of every peer in the peer store, keyed by peer ID.
type addrsOutput struct {
	Addrs map[string][]string
}

// swarmAddrs lists the addresses this node knows for other peers (not only
// connected ones), sorted so the output is stable.
func (s *shell) swarmAddrs(w http.ResponseWriter, r *http.Request) error {
	known, err := s.backend.KnownAddrs(r.Context())
	if err != nil {
		return fmt.Errorf("listing known addresses: %w", err)
	}
	out := addrsOutput{Addrs: make(map[string][]string, len(known))}
	for id, addrs := range known {
		strs := make([]string, 0, len(addrs))
		for _, a := range addrs {
			strs = append(strs, a.String())
		}
		slices.Sort(strs)
		out.Addrs[id.String()] = strs
	}
	return writeJSON(w, out)
}

// swarmAddrsLocal lists this node's own addresses, as Kubo's
// swarm/addrs/local does (with --id, each ends in /p2p/<id>).
func (s *shell) swarmAddrsLocal(w http.ResponseWriter, r *http.Request) error {
	withID, err := boolParam(r.URL.Query(), "id", false)
	if err != nil {
		return err
	}
	self, err := s.backend.Identity(r.Context())
	if err != nil {
		return fmt.Errorf("reading node identity: %w", err)
	}
	out := stringList{Strings: make([]string, 0, len(self.Addresses))}
	for _, a := range self.Addresses {
		str := a.String()
		if withID {
			str += "/p2p/" + self.ID.String()
		}
		out.Strings = append(out.Strings, str)
	}
	slices.Sort(out.Strings)
	return writeJSON(w, out)
}
