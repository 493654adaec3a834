package dht

import (
	"fmt"
	"strings"
	"time"
)

// Modes a peer can run its DHTs in.
const (
	ModeAuto   = "auto"   // server on the WAN DHT once AutoNAT says we are publicly reachable
	ModeServer = "server" // always answer DHT queries
	ModeClient = "client" // only query, never store records for others
)

// DefaultProtocolPrefix fences Cairn peers into a DHT of their own: a peer
// that forgets to set a prefix must not merge into the public IPFS DHT by
// accident. "/ipfs" joins the IPFS Amino DHT instead.
const DefaultProtocolPrefix = "/cairn"

// Config is the dht section of config.yaml.
type Config struct {
	// Mode is auto, server or client. It applies to the WAN DHT; the LAN DHT
	// is a server whenever the WAN DHT is not a pure client, so peers that
	// only have private addresses still form a DHT among themselves.
	Mode string `yaml:"mode"`
	// ProtocolPrefix namespaces the DHT protocols: /cairn (default) or /ipfs.
	ProtocolPrefix string `yaml:"protocol_prefix"`
	// LoopbackOnLAN keeps 127.0.0.1 and ::1 addresses in the records the LAN
	// DHT hands out. Kubo drops them, which leaves several peers on one
	// machine unable to find each other's addresses; Cairn keeps them so a
	// devnet on one machine routes like a LAN.
	LoopbackOnLAN bool `yaml:"loopback_on_lan"`
	// RefreshInterval is how often the routing tables are refreshed.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// DefaultConfig returns the documented defaults (see config.yaml).
func DefaultConfig() Config {
	return Config{
		Mode:            ModeAuto,
		ProtocolPrefix:  DefaultProtocolPrefix,
		LoopbackOnLAN:   true,
		RefreshInterval: 10 * time.Minute,
	}
}

// Validate reports the first field that cannot work, by its config key.
func (c Config) Validate() error {
	switch c.Mode {
	case ModeAuto, ModeServer, ModeClient:
	default:
		return fmt.Errorf("dht.mode: %q is not one of auto, server, client", c.Mode)
	}
	if !strings.HasPrefix(c.ProtocolPrefix, "/") || strings.HasSuffix(c.ProtocolPrefix, "/") || strings.ContainsAny(c.ProtocolPrefix, " \t\n") {
		return fmt.Errorf("dht.protocol_prefix: %q must start with / and not end with one, e.g. /cairn", c.ProtocolPrefix)
	}
	if c.RefreshInterval < time.Second {
		return fmt.Errorf("dht.refresh_interval: %s is below 1s", c.RefreshInterval)
	}
	return nil
}
