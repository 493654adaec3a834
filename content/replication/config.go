package replication

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxFactor bounds a replication factor: a record names every holder, and
// each holder is checked every interval.
const MaxFactor = 20

// Config is replication's section of config.yaml; every default is in
// DefaultConfig and documented beside its key in config.yaml.
type Config struct {
	// Default is the replication factor of a pin that asks for none
	// (default): 0 or 1 keeps the pinning peer's copy alone.
	Default int `yaml:"default"`
	// Accept lets this peer hold replicas for others (accept). Default
	// true; whom it accepts them from is Trusted, or the private network.
	Accept bool `yaml:"accept"`
	// Trusted lists the peer IDs that may ask this peer to hold, check
	// or release replicas (trusted), besides every peer of its private
	// network (swarm.key). Default none.
	Trusted []string `yaml:"trusted"`
	// MaxBytes bounds the bytes of replicas held for others (max_bytes);
	// 0 leaves only content.storage_max. Default 0.
	MaxBytes uint64 `yaml:"max_bytes"`
	// CheckInterval is the time between two checks of a replicated pin's
	// holders (check_interval), each drawn ±25% at random. Default 1m.
	CheckInterval time.Duration `yaml:"check_interval"`
	// RequestTimeout bounds a check or release request (request_timeout).
	// Default 20s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// HoldTimeout bounds a "hold" request, which lasts as long as the
	// holder's fetch of the whole DAG (hold_timeout). Default 30m.
	HoldTimeout time.Duration `yaml:"hold_timeout"`
	// MaxRepairs bounds the "hold" requests this peer has in flight
	// (max_repairs), and the fetches it makes for others. Default 4.
	MaxRepairs int `yaml:"max_repairs"`
	// MaxBackoff is the longest wait before asking again a peer that
	// refused or failed, or repairing a pin no peer would hold
	// (max_backoff). Default 10m.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// ForgetAfter is how long a holder that does not answer stays in a
	// record, to be released if it comes back (forget_after). Default 24h.
	ForgetAfter time.Duration `yaml:"forget_after"`
	// RequestRate is the requests per second one peer may make of this
	// one (request_rate), with bursts of 4× as many. Default 20.
	RequestRate float64 `yaml:"request_rate"`

	// Private says the host is in a private network (swarm.key), whose
	// every peer may ask. Set by the node, not read from the file.
	Private bool `yaml:"-"`
	// Now is the clock; nil is time.Now. Set by tests and simulators.
	Now func() time.Time `yaml:"-"`
}

// DefaultConfig returns the defaults documented on Config.
func DefaultConfig() Config {
	return Config{
		Accept:         true,
		CheckInterval:  time.Minute,
		RequestTimeout: 20 * time.Second,
		HoldTimeout:    30 * time.Minute,
		MaxRepairs:     4,
		MaxBackoff:     10 * time.Minute,
		ForgetAfter:    24 * time.Hour,
		RequestRate:    20,
	}
}

// Validate names the first bad key, e.g. "replication.default: …".
func (c Config) Validate() error {
	if c.Default < 0 || c.Default > MaxFactor {
		return fieldError("default", fmt.Errorf("must be between 0 and %d, got %d", MaxFactor, c.Default))
	}
	if _, err := c.trusted(); err != nil {
		return fieldError("trusted", err)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"check_interval", c.CheckInterval}, {"request_timeout", c.RequestTimeout}, {"hold_timeout", c.HoldTimeout},
		{"max_backoff", c.MaxBackoff}, {"forget_after", c.ForgetAfter},
	} {
		if d.v <= 0 {
			return fieldError(d.key, fmt.Errorf("must be positive, got %s", d.v))
		}
	}
	if c.MaxRepairs < 1 {
		return fieldError("max_repairs", fmt.Errorf("must be at least 1, got %d", c.MaxRepairs))
	}
	if c.RequestRate <= 0 {
		return fieldError("request_rate", fmt.Errorf("must be positive, got %g", c.RequestRate))
	}
	return nil
}

// trusted parses Trusted.
func (c Config) trusted() (map[peer.ID]bool, error) {
	out := make(map[peer.ID]bool, len(c.Trusted))
	for _, s := range c.Trusted {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a peer ID: %w", s, err)
		}
		out[id] = true
	}
	return out, nil
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func fieldError(key string, err error) error {
	return fmt.Errorf("replication.%s: %w", key, err)
}
