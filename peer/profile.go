package peer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"gopkg.in/yaml.v3"
)

// Profile is a named set of config changes, as Kubo's config profiles:
// `cairn init --profile NAME` and `cairn config profile apply NAME`.
type Profile struct {
	// Description says what the profile is for, in one line.
	Description string
	// settings computes the changes from the config as it is.
	settings func(cfg Config) []ConfigSetting
}

// PrivateAddrFilters are the address ranges the server profile neither
// dials, accepts nor announces: private, loopback, link-local and other
// special-purpose ranges, as Kubo's server profile lists them.
var PrivateAddrFilters = []string{
	"/ip4/10.0.0.0/ipcidr/8",
	"/ip4/100.64.0.0/ipcidr/10",
	"/ip4/127.0.0.0/ipcidr/8",
	"/ip4/169.254.0.0/ipcidr/16",
	"/ip4/172.16.0.0/ipcidr/12",
	"/ip4/192.0.0.0/ipcidr/24",
	"/ip4/192.0.2.0/ipcidr/24",
	"/ip4/192.168.0.0/ipcidr/16",
	"/ip4/198.18.0.0/ipcidr/15",
	"/ip4/198.51.100.0/ipcidr/24",
	"/ip4/203.0.113.0/ipcidr/24",
	"/ip4/240.0.0.0/ipcidr/4",
	"/ip6/::/ipcidr/3",
	"/ip6/2001:2::/ipcidr/48",
	"/ip6/2001:db8::/ipcidr/32",
	"/ip6/fc00::/ipcidr/7",
	"/ip6/fe80::/ipcidr/10",
}

var profiles = map[string]Profile{
	"server": {
		Description: "a host with public addresses: no mDNS, no dialling or announcing private addresses, no port mapping",
		settings: func(cfg Config) []ConfigSetting {
			filters := slices.Clone(cfg.Swarm.AddrFilters)
			for _, f := range PrivateAddrFilters {
				if !slices.Contains(filters, f) {
					filters = append(filters, f)
				}
			}
			return []ConfigSetting{
				{Key: "discovery.mdns", Value: false},
				{Key: "swarm.addr_filters", Value: filters},
				{Key: "reachability.port_mapping", Value: false},
			}
		},
	},
	"lowpower": {
		Description: "less work for a small machine: DHT client only, serve no AutoNAT or relay, 20 to 40 connections",
		settings: func(Config) []ConfigSetting {
			return []ConfigSetting{
				{Key: "dht.mode", Value: "client"},
				{Key: "reachability.autonat_service", Value: false},
				{Key: "reachability.relay_service", Value: false},
				{Key: "connections.low", Value: 20},
				{Key: "connections.high", Value: 40},
				{Key: "connections.grace_period", Value: time.Minute},
			}
		},
	},
	"randomports": {
		Description: "swarm ports picked at each start (port 0), so several peers can share a machine",
		settings: func(cfg Config) []ConfigSetting {
			return []ConfigSetting{{Key: "swarm.listen", Value: zeroPorts(cfg.Swarm.Listen)}}
		},
	},
	"test": {
		Description: "for tests: loopback only on free ports, no bootstrap peers, no mDNS, no port mapping",
		settings: func(Config) []ConfigSetting {
			return []ConfigSetting{
				{Key: "swarm.listen", Value: []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}},
				{Key: "shell.address", Value: "127.0.0.1:0"},
				{Key: "gateway.address", Value: "127.0.0.1:0"},
				{Key: "discovery.bootstrap", Value: []string{}},
				{Key: "discovery.mdns", Value: false},
				{Key: "reachability.port_mapping", Value: false},
				{Key: "dht.loopback_on_lan", Value: true},
			}
		},
	},
}

// ProfileNames lists the profiles, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupProfile returns the profile called name.
func LookupProfile(name string) (Profile, bool) {
	p, ok := profiles[name]
	return p, ok
}

// ApplyProfiles applies the named profiles, in order, to config YAML and
// returns the new text, its comments kept.
func ApplyProfiles(data []byte, names ...string) ([]byte, error) {
	out, _, err := editConfig(data, profileEdit(names))
	return out, err
}

// ApplyProfilesToRepo applies the named profiles, in order, to repoDir's
// config.yaml in place, its comments kept, and returns the new config.
func ApplyProfilesToRepo(repoDir string, names ...string) (Config, error) {
	return EditConfigFile(repoDir, profileEdit(names))
}

// profileEdit applies each profile to the node tree, each seeing the
// config as the ones before it left it.
func profileEdit(names []string) func(*yaml.Node) error {
	return func(doc *yaml.Node) error {
		for _, name := range names {
			p, ok := profiles[name]
			if !ok {
				return fmt.Errorf("unknown profile %q (known: %v)", name, ProfileNames())
			}
			cfg, err := decodeConfigNode(doc)
			if err != nil {
				return err
			}
			for _, s := range p.settings(cfg) {
				if err := setConfigNode(doc, s); err != nil {
					return fmt.Errorf("profile %s: %w", name, err)
				}
			}
		}
		return nil
	}
}

// decodeConfigNode is the config a node tree holds, over the defaults.
func decodeConfigNode(doc *yaml.Node) (Config, error) {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return Config{}, err
	}
	return ParseConfig(data)
}

// zeroPorts sets the TCP and UDP port of each address to 0.
func zeroPorts(addrs []string) []string {
	out := make([]string, 0, len(addrs))
	for _, s := range addrs {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			out = append(out, s) // validation names it
			continue
		}
		var parts []ma.Component
		for _, c := range m {
			if c.Code() == ma.P_TCP || c.Code() == ma.P_UDP {
				zero, err := ma.NewComponent(c.Protocol().Name, "0")
				if err == nil {
					c = *zero
				}
			}
			parts = append(parts, c)
		}
		out = append(out, ma.Multiaddr(parts).String())
	}
	return out
}

// DryRunProfiles returns the config the named profiles would make of
// repoDir's config.yaml, writing nothing.
func DryRunProfiles(repoDir string, names ...string) (Config, error) {
	data, err := os.ReadFile(filepath.Join(repoDir, ConfigFile))
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	_, cfg, err := editConfig(data, profileEdit(names))
	return cfg, err
}
