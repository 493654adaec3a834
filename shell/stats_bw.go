package shell

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Bandwidth is stats/bw's body, in Kubo's shape: bytes in and out since
// the node started and their current rates in bytes per second.
type Bandwidth struct {
	TotalIn  int64
	TotalOut int64
	RateIn   float64
	RateOut  float64
}

// defaultBWInterval is how often stats/bw?poll=true reports: Kubo's 1 s.
const defaultBWInterval = time.Second

// statsBW answers /api/v0/stats/bw: all traffic, or one protocol's
// (proto) or one peer's (peer), once or, with poll=true, every interval
// until the client leaves.
func (s *shell) statsBW(w http.ResponseWriter, r *http.Request) error {
	sb, ok := s.backend.(StatusBackend)
	if !ok {
		return errorf(kindUnknownCommand, "stats/bw: this node does not count bandwidth: %w", errors.ErrUnsupported)
	}
	q := r.URL.Query()
	proto, pid, err := bwFilter(q.Get("proto"), q.Get("peer"))
	if err != nil {
		return err
	}
	poll, err := boolParam(q, "poll", false)
	if err != nil {
		return err
	}
	if !poll {
		return writeJSON(w, sb.Bandwidth(proto, pid))
	}
	every := defaultBWInterval
	if v := q.Get("interval"); v != "" {
		if every, err = time.ParseDuration(v); err != nil || every <= 0 {
			return errorf(kindBadRequest, "stats/bw: invalid interval %q: want a positive duration such as 1s", v)
		}
	}
	return pollBW(r.Context(), &jsonStream{w: w}, every, func() Bandwidth { return sb.Bandwidth(proto, pid) })
}

// bwFilter parses the one filter stats/bw may take: a protocol or a peer.
func bwFilter(proto, p string) (protocol.ID, peer.ID, error) {
	if proto != "" && p != "" {
		return "", "", errorf(kindBadRequest, "stats/bw: pass peer or proto, not both")
	}
	if p == "" {
		return protocol.ID(proto), "", nil
	}
	id, err := peer.Decode(p)
	if err != nil {
		return "", "", errorf(kindBadRequest, "stats/bw: invalid peer ID %q: %w", p, err)
	}
	return "", id, nil
}

// pollBW emits a report now and every interval until ctx ends.
func pollBW(ctx context.Context, out *jsonStream, every time.Duration, read func() Bandwidth) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := out.emit(read()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
