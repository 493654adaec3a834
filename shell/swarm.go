package shell

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// connInfo is one peer in swarm/peers' output, in Kubo's shape: Direction
// is libp2p's network.Direction number (1 inbound, 2 outbound), and the
// optional fields appear only when asked for.
type connInfo struct {
	Addr      string            `json:",omitempty"`
	Peer      string            `json:",omitempty"`
	Latency   string            `json:",omitempty"`
	Muxer     string            `json:",omitempty"`
	Direction network.Direction `json:",omitempty"`
	Streams   []streamInfo      `json:",omitempty"`
}

type streamInfo struct {
	Protocol string
}

type connInfos struct {
	Peers []connInfo
}

// stringList is Kubo's output for commands that report lines.
type stringList struct {
	Strings []string
}

// peerDetail says which optional connInfo fields a request asked for.
type peerDetail struct {
	latency, streams, direction bool
}

func (s *shell) swarmPeers(w http.ResponseWriter, r *http.Request) error {
	detail, err := peerDetailParams(r.URL.Query())
	if err != nil {
		return err
	}
	peers, err := s.backend.Peers(r.Context())
	if err != nil {
		return fmt.Errorf("listing peers: %w", err)
	}
	var out connInfos
	for _, p := range peers {
		out.Peers = append(out.Peers, detail.connInfo(p))
	}
	slices.SortFunc(out.Peers, func(a, b connInfo) int { return strings.Compare(a.Addr, b.Addr) })
	return writeJSON(w, out)
}

func peerDetailParams(q url.Values) (peerDetail, error) {
	var on [4]bool
	for i, name := range []string{"verbose", "latency", "streams", "direction"} {
		b, err := boolParam(q, name, false)
		if err != nil {
			return peerDetail{}, err
		}
		on[i] = b
	}
	verbose := on[0]
	return peerDetail{latency: verbose || on[1], streams: verbose || on[2], direction: verbose || on[3]}, nil
}

func (d peerDetail) connInfo(p PeerInfo) connInfo {
	ci := connInfo{Peer: p.ID.String()}
	if p.Addr != nil {
		ci.Addr = p.Addr.String()
	}
	if d.latency {
		ci.Latency = "n/a" // Kubo's word for a latency not measured yet
		if p.Latency > 0 {
			ci.Latency = p.Latency.String()
		}
	}
	if d.direction {
		ci.Direction = map[string]network.Direction{"inbound": network.DirInbound, "outbound": network.DirOutbound}[p.Direction]
	}
	if d.streams {
		for _, proto := range slices.Sorted(slices.Values(p.Streams)) {
			ci.Streams = append(ci.Streams, streamInfo{Protocol: proto})
		}
	}
	return ci
}

// swarmConnect dials each address in turn, after checking them all, so that
// a typo in the third does not leave the first two half-done.
func (s *shell) swarmConnect(w http.ResponseWriter, r *http.Request) error {
	addrs, err := p2pAddrArgs(r.URL.Query()["arg"])
	if err != nil {
		return err
	}
	out := stringList{Strings: make([]string, 0, len(addrs))}
	for _, a := range addrs {
		_, id := peer.SplitAddr(a)
		got, err := s.backend.Connect(r.Context(), a)
		if err != nil {
			return timedOut(r.Context(), fmt.Errorf("connect %s failure: %w", id, err), fmt.Sprintf("could not connect to %s", id))
		}
		out.Strings = append(out.Strings, "connect "+got.String()+" success")
	}
	return writeJSON(w, out)
}

// p2pAddrArgs parses multiaddrs that name their peer; the shell cannot look
// up a peer's addresses by ID alone yet.
func p2pAddrArgs(args []string) ([]ma.Multiaddr, error) {
	if len(args) == 0 {
		return nil, errorf(kindBadRequest, "argument \"arg\" is required: pass a multiaddr ending in /p2p/<peer-id>")
	}
	addrs := make([]ma.Multiaddr, len(args))
	for i, s := range args {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, errorf(kindBadRequest, "invalid multiaddr %q: %w", s, err)
		}
		if _, id := peer.SplitAddr(a); id == "" {
			return nil, errorf(kindBadRequest, "multiaddr %q has no /p2p/<peer-id> part", s)
		}
		addrs[i] = a
	}
	return addrs, nil
}
