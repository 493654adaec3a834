package shell

import (
	"context"
	"net/http"

	ma "github.com/multiformats/go-multiaddr"
)

// BootstrapBackend reads and edits the node's bootstrap peers in its
// config file, for Kubo's bootstrap commands; changes apply at the next
// start.
type BootstrapBackend interface {
	// BootstrapPeers lists the bootstrap peers.
	BootstrapPeers(ctx context.Context) ([]string, error)
	// AddBootstrapPeers adds peers and returns those not there before.
	AddBootstrapPeers(ctx context.Context, addrs []ma.Multiaddr) ([]string, error)
	// RemoveBootstrapPeers removes peers (every one with all) and
	// returns those removed.
	RemoveBootstrapPeers(ctx context.Context, addrs []ma.Multiaddr, all bool) ([]string, error)
}

// bootstrapPeers is the output of every bootstrap command, in Kubo's shape.
type bootstrapPeers struct {
	Peers []string
}

func (s *shell) bootstrapBackend() (BootstrapBackend, error) {
	bb, ok := s.backend.(BootstrapBackend)
	if !ok {
		return nil, errorf(kindInternal, "this node has no config file to keep bootstrap peers in")
	}
	return bb, nil
}

// bootstrapList sends discovery.bootstrap.
func (s *shell) bootstrapList(w http.ResponseWriter, r *http.Request) error {
	bb, err := s.bootstrapBackend()
	if err != nil {
		return err
	}
	peers, err := bb.BootstrapPeers(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, bootstrapPeers{Peers: nonNil(peers)})
}

// bootstrapAdd adds multiaddrs ending in /p2p/<id> and sends those added.
func (s *shell) bootstrapAdd(w http.ResponseWriter, r *http.Request) error {
	addrs, err := p2pAddrArgs(r.URL.Query()["arg"])
	if err != nil {
		return err
	}
	bb, err := s.bootstrapBackend()
	if err != nil {
		return err
	}
	added, err := bb.AddBootstrapPeers(r.Context(), addrs)
	if err != nil {
		return errorf(kindBadRequest, "%w", err)
	}
	return writeJSON(w, bootstrapPeers{Peers: nonNil(added)})
}

// bootstrapRm removes the given addresses, or with all=true (or at
// bootstrap/rm/all) every one, and sends those removed.
func (s *shell) bootstrapRm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	all, err := boolParam(q, "all", false)
	if err != nil {
		return err
	}
	return s.removeBootstrap(w, r, all)
}

func (s *shell) bootstrapRmAll(w http.ResponseWriter, r *http.Request) error {
	return s.removeBootstrap(w, r, true)
}

func (s *shell) removeBootstrap(w http.ResponseWriter, r *http.Request, all bool) error {
	var addrs []ma.Multiaddr
	if !all {
		var err error
		if addrs, err = p2pAddrArgs(r.URL.Query()["arg"]); err != nil {
			return err
		}
	}
	bb, err := s.bootstrapBackend()
	if err != nil {
		return err
	}
	removed, err := bb.RemoveBootstrapPeers(r.Context(), addrs, all)
	if err != nil {
		return errorf(kindBadRequest, "%w", err)
	}
	return writeJSON(w, bootstrapPeers{Peers: nonNil(removed)})
}

// nonNil makes an empty list [] in JSON, not null, as Kubo sends it.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
