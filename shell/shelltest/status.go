package shelltest

import (
	"errors"
	"sync"

	"github.com/cairnnet/cairn/shell"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

var (
	_ shell.StatusBackend = (*Observed)(nil)
	_ shell.LogBackend    = (*Observed)(nil)
)

// Observed is Backend with what status, stats/bw and log/level read
// besides: bandwidth, transfers in flight, peer details and log levels.
// Set the exported fields before serving.
type Observed struct {
	*Backend
	// BW is the bandwidth reported, by protocol ID or peer ID, "" for
	// all traffic.
	BW map[string]shell.Bandwidth
	// TransferList is what Transfers reports.
	TransferList []shell.Transfer
	// Details is what PeerDetail reports of each peer.
	Details map[peer.ID]shell.PeerDetail

	mu     sync.Mutex
	levels map[string]string
}

// NewObserved returns an empty fake that reports no traffic.
func NewObserved() *Observed {
	return &Observed{Backend: New(), BW: map[string]shell.Bandwidth{}, Details: map[peer.ID]shell.PeerDetail{}, levels: map[string]string{}}
}

// Bandwidth implements shell.StatusBackend.
func (o *Observed) Bandwidth(proto protocol.ID, p peer.ID) shell.Bandwidth {
	switch {
	case proto != "":
		return o.BW[string(proto)]
	case p != "":
		return o.BW[p.String()]
	}
	return o.BW[""]
}

// Transfers implements shell.StatusBackend.
func (o *Observed) Transfers() []shell.Transfer { return o.TransferList }

// PeerDetail implements shell.StatusBackend.
func (o *Observed) PeerDetail(p peer.ID) shell.PeerDetail { return o.Details[p] }

// ErrNoSubsystem is SetLogLevel's error for the subsystem "nope".
var ErrNoSubsystem = errors.New("no log subsystem \"nope\"")

// SetLogLevel implements shell.LogBackend: any subsystem but "nope".
func (o *Observed) SetLogLevel(subsystem, level string) error {
	if subsystem == "nope" {
		return ErrNoSubsystem
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.levels[subsystem] = level
	return nil
}

// LogLevel is the level last set for subsystem.
func (o *Observed) LogLevel(subsystem string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.levels[subsystem]
}
