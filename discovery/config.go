package discovery

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Config is the discovery section of config.yaml.
type Config struct {
	// Bootstrap lists peers to join through, as multiaddrs ending in /p2p/<id>.
	Bootstrap []string `yaml:"bootstrap"`
	// MDNS finds peers on the local network by multicast DNS. It sends
	// multicast onto the machine's network, so tests switch it off.
	MDNS bool `yaml:"mdns"`
	// Interval is how often connection upkeep checks the peer count when all
	// is well; failed rounds back off from this up to MaxBackoff.
	Interval time.Duration `yaml:"interval"`
	// MaxBackoff caps the wait between failed bootstrap rounds.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// DefaultConfig returns the documented defaults (see config.yaml).
func DefaultConfig() Config {
	return Config{
		MDNS:       true,
		Interval:   30 * time.Second,
		MaxBackoff: 5 * time.Minute,
	}
}

// Validate reports the first field that cannot work, by its config key.
func (c Config) Validate() error {
	if _, err := ParseBootstrap(c.Bootstrap); err != nil {
		return err
	}
	if c.Interval < 100*time.Millisecond {
		return fmt.Errorf("discovery.interval: %s is below 100ms", c.Interval)
	}
	if c.MaxBackoff < c.Interval {
		return fmt.Errorf("discovery.max_backoff: %s is below discovery.interval (%s)", c.MaxBackoff, c.Interval)
	}
	return nil
}

// ParseBootstrap turns bootstrap multiaddrs into peers, merging several
// addresses of one peer. The error names the entry that is wrong.
func ParseBootstrap(addrs []string) ([]peer.AddrInfo, error) {
	maddrs := make([]ma.Multiaddr, 0, len(addrs))
	for i, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("discovery.bootstrap[%d]: bad multiaddr %q: %w", i, s, err)
		}
		if _, err := peer.AddrInfoFromP2pAddr(m); err != nil {
			return nil, fmt.Errorf("discovery.bootstrap[%d]: %q must end in /p2p/<peer-id>: %w", i, s, err)
		}
		maddrs = append(maddrs, m)
	}
	return peer.AddrInfosFromP2pAddrs(maddrs...)
}
