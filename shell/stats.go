package shell

import (
	"errors"
	"net/http"
	"time"
)

// ProvideStatsBackend is implemented by a Backend that announces content
// and can say how that goes; without it /api/v0/stats/provide answers 404,
// as for a command the node does not have.
// It is apart from Backend so that test fakes need not implement it.
type ProvideStatsBackend interface {
	// ProvideStats reports the provider system's counters.
	ProvideStats() (ProvideStats, error)
}

// ProvideStats is the body of /api/v0/stats/provide: Kubo's four fields of
// `ipfs stats provide`, whose durations are integers in nanoseconds, and
// what Kubo leaves out but an operator needs to see reproviding is alive:
// how often it runs, when it last did, and which keys it announces.
type ProvideStats struct {
	// TotalProvides counts the keys re-announced since the node started.
	TotalProvides uint64
	// AvgProvideDuration is the mean time spent per re-announced key.
	AvgProvideDuration time.Duration
	// LastReprovideDuration is how long the last reprovide batch took.
	LastReprovideDuration time.Duration
	// LastReprovideBatchSize is how many keys the last batch announced.
	LastReprovideBatchSize uint64
	// ReprovideInterval is the time between two reprovide runs; 0 means
	// the node does not reprovide (disabled, or offline).
	ReprovideInterval time.Duration
	// LastRun is when the last reprovide batch ended; nil if none has run
	// since the node started.
	LastRun *time.Time
	// Strategy names the keys reprovided: "roots", "pinned" or "all".
	Strategy string
}

// statsProvide answers /api/v0/stats/provide.
func (s *shell) statsProvide(w http.ResponseWriter, r *http.Request) error {
	sb, ok := s.backend.(ProvideStatsBackend)
	if !ok {
		return errorf(kindUnknownCommand, "stats/provide: this node does not announce content: %w", errors.ErrUnsupported)
	}
	st, err := sb.ProvideStats()
	if err != nil {
		return errorf(kindInternal, "stats/provide: %w", err)
	}
	return writeJSON(w, st)
}
