package peer

import (
	"github.com/cairnnet/cairn/internal/loglevel"
	"github.com/cairnnet/cairn/shell"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// What the shell's status, stats/bw and log/level need beyond Backend.
var (
	_ shell.StatusBackend = (*backend)(nil)
	_ shell.LogBackend    = (*backend)(nil)
)

// Bandwidth reads libp2p's bandwidth counter: everything, or one
// protocol's or one peer's traffic.
func (b *backend) Bandwidth(proto protocol.ID, p libp2ppeer.ID) shell.Bandwidth {
	bw := b.n.metrics.bw
	st := bw.GetBandwidthTotals()
	switch {
	case proto != "":
		st = bw.GetBandwidthForProtocol(proto)
	case p != "":
		st = bw.GetBandwidthForPeer(p)
	}
	return shell.Bandwidth{TotalIn: st.TotalIn, TotalOut: st.TotalOut, RateIn: st.RateIn, RateOut: st.RateOut}
}

// Transfers lists the reads in flight through the shell.
func (b *backend) Transfers() []shell.Transfer {
	return b.n.transfers.list()
}

// PeerDetail is what identify stored of p in the peer store.
func (b *backend) PeerDetail(p libp2ppeer.ID) shell.PeerDetail {
	ps := b.n.host.Peerstore()
	var d shell.PeerDetail
	if agent, err := ps.Get(p, "AgentVersion"); err == nil {
		d.AgentVersion, _ = agent.(string)
	}
	if protos, err := ps.GetProtocols(p); err == nil {
		d.Protocols = protocolStrings(protos)
	}
	return d
}

// SetLogLevel sets a subsystem's log level for the whole process.
func (b *backend) SetLogLevel(subsystem, level string) error {
	return loglevel.Set(subsystem, level)
}
