package replication

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// maxLimited bounds the peers whose request rate is tracked; past it the
// table starts over, which at worst grants a burst again.
const maxLimited = 4096

// limiter gives each peer a token bucket of requests.
type limiter struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	peers map[peer.ID]*rate.Limiter
}

func newLimiter(perSecond float64) *limiter {
	return &limiter{rate: rate.Limit(perSecond), burst: max(1, int(4*perSecond)), peers: make(map[peer.ID]*rate.Limiter)}
}

// allow takes one of p's tokens, if it has one.
func (l *limiter) allow(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.peers[p]
	if !ok {
		if len(l.peers) >= maxLimited {
			clear(l.peers)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.peers[p] = lim
	}
	return lim.Allow()
}
