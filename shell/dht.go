package shell

import (
	"context"
	"fmt"
	"net/http"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// defaultNumProviders is how many providers findprovs looks for when the
// request does not say: 20, as in Kubo.
const defaultNumProviders = 20

// findProvs streams each provider as Kubo's routing event of type Provider
// (4), as soon as it is found. libp2p's own QueryEvent encodes it, so the
// shape is exactly Kubo's.
func (s *shell) findProvs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := oneCIDArg(q)
	if err != nil {
		return err
	}
	limit, _, err := intParam(q, "num-providers", defaultNumProviders)
	if err != nil {
		return err
	}
	if limit <= 0 {
		return errorf(kindBadRequest, "num-providers must be greater than 0")
	}
	// Cancelled on return, so the search stops once enough were found.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	provs, err := s.backend.FindProviders(ctx, c, int(limit))
	if err != nil {
		return timedOut(ctx, fmt.Errorf("finding providers of %s: %w", c, err), fmt.Sprintf("no providers of %s found", c))
	}
	out := &jsonStream{w: w}
	found, err := emitProviders(ctx, out, provs, limit)
	if err != nil {
		return err
	}
	if found == 0 && ctx.Err() != nil {
		return timedOut(ctx, ctx.Err(), fmt.Sprintf("no providers of %s found", c))
	}
	out.start() // an empty result is still a 200
	return nil
}

// emitProviders forwards providers until limit, the channel's end or ctx's.
func emitProviders(ctx context.Context, out *jsonStream, provs <-chan peer.AddrInfo, limit int64) (int64, error) {
	var found int64
	for found < limit {
		select {
		case <-ctx.Done():
			return found, nil
		case p, ok := <-provs:
			if !ok {
				return found, nil
			}
			ev := &routing.QueryEvent{Type: routing.Provider, Responses: []*peer.AddrInfo{&p}}
			if err := out.emit(ev); err != nil {
				return found, err
			}
			found++
		}
	}
	return found, nil
}
