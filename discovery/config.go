package discovery

import (
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultNamespace is the rendezvous name Cairn peers advertise under when
// the config does not say: one network per DHT protocol prefix is the
// common case, so one namespace is enough by default.
const DefaultNamespace = "cairn"

// DefaultRememberedPeers is how many recently connected peers are kept.
const DefaultRememberedPeers = 64

// Config is the discovery section of config.yaml.
type Config struct {
	// Bootstrap lists peers to join through, as multiaddrs ending in /p2p/<id>.
	Bootstrap []string `yaml:"bootstrap"`
	// MDNS finds peers on the local network by multicast DNS. It sends
	// multicast onto the machine's network, so tests switch it off.
	MDNS bool `yaml:"mdns"`
	// Interval is how often connection upkeep checks the peer count when all
	// is well; rounds that connect nobody new back off from this up to
	// MaxBackoff.
	Interval time.Duration `yaml:"interval"`
	// MaxBackoff caps the wait between rounds that connect nobody new.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Namespace is the rendezvous name this peer advertises under in the
	// DHT and looks up to find other peers of its network. Empty switches
	// rendezvous off. Default "cairn".
	Namespace string `yaml:"namespace"`
	// RememberedPeers is how many recently connected peers (ID and listen
	// addresses) are kept in the datastore and dialled on restart, so a
	// peer rejoins when its bootstrap peers are gone; the oldest is dropped
	// first. 0 remembers nobody. Default 64.
	RememberedPeers int `yaml:"remembered_peers"`
}

// DefaultConfig returns the documented defaults (see config.yaml).
func DefaultConfig() Config {
	return Config{
		MDNS:            true,
		Interval:        30 * time.Second,
		MaxBackoff:      5 * time.Minute,
		Namespace:       DefaultNamespace,
		RememberedPeers: DefaultRememberedPeers,
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
	if strings.TrimSpace(c.Namespace) != c.Namespace {
		return fmt.Errorf("discovery.namespace: %q has leading or trailing spaces", c.Namespace)
	}
	if c.RememberedPeers < 0 || c.RememberedPeers > 4096 {
		return fmt.Errorf("discovery.remembered_peers: %d is not between 0 and 4096", c.RememberedPeers)
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
