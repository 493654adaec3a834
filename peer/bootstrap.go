package peer

import (
	"fmt"
	"slices"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Kubo's bootstrap commands, over discovery.bootstrap in config.yaml.

// BootstrapPeers returns repoDir's discovery.bootstrap.
func BootstrapPeers(repoDir string) ([]string, error) {
	cfg, err := LoadConfig(repoDir)
	if err != nil {
		return nil, err
	}
	return cfg.Discovery.Bootstrap, nil
}

// AddBootstrapPeers adds addresses (each ending in /p2p/<id>) to repoDir's
// discovery.bootstrap and returns those that were not there.
func AddBootstrapPeers(repoDir string, addrs []ma.Multiaddr) ([]string, error) {
	return editBootstrap(repoDir, func(peers []string) ([]string, []string) {
		added := []string{}
		for _, a := range addrs {
			if s := a.String(); !slices.Contains(peers, s) {
				peers = append(peers, s)
				added = append(added, s)
			}
		}
		return peers, added
	})
}

// RemoveBootstrapPeers removes addresses (every one with all) from
// repoDir's discovery.bootstrap and returns those removed.
func RemoveBootstrapPeers(repoDir string, addrs []ma.Multiaddr, all bool) ([]string, error) {
	return editBootstrap(repoDir, func(peers []string) ([]string, []string) {
		if all {
			return []string{}, peers
		}
		removed := []string{}
		for _, a := range addrs {
			if i := slices.Index(peers, a.String()); i >= 0 {
				peers = slices.Delete(peers, i, i+1)
				removed = append(removed, a.String())
			}
		}
		return peers, removed
	})
}

// editBootstrap rewrites discovery.bootstrap with what change makes of it,
// unless it changed nothing, and returns the entries changed.
func editBootstrap(repoDir string, change func(peers []string) (next, changed []string)) ([]string, error) {
	peers, err := BootstrapPeers(repoDir)
	if err != nil {
		return nil, err
	}
	next, changed := change(slices.Clone(peers))
	if len(changed) == 0 {
		return changed, nil
	}
	_, err = SetConfig(repoDir, ConfigSetting{Key: "discovery.bootstrap", Value: next})
	return changed, err
}

// ParseP2PAddrs reads multiaddrs that end in /p2p/<peer-id>.
func ParseP2PAddrs(args []string) ([]ma.Multiaddr, error) {
	addrs := make([]ma.Multiaddr, len(args))
	for i, s := range args {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid multiaddr %q: %w", s, err)
		}
		if _, id := libp2ppeer.SplitAddr(a); id == "" {
			return nil, fmt.Errorf("multiaddr %q has no /p2p/<peer-id> part", s)
		}
		addrs[i] = a
	}
	return addrs, nil
}
