package peer

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/content/replication"
	"github.com/cairnnet/cairn/dht"
	"github.com/cairnnet/cairn/discovery"
	"github.com/cairnnet/cairn/shell"
	ma "github.com/multiformats/go-multiaddr"
)

// Default ports sit beside Kubo's (4001, 5001) so both can run on one machine.
const (
	DefaultSwarmPort = 4201
	DefaultShellAddr = "127.0.0.1:5201"
)

// Config is the whole of config.yaml. Each package owns its section, with its
// own defaults and Validate; this type only composes them. Every default is
// documented beside its key in the project's config.yaml.
type Config struct {
	Swarm       SwarmConfig        `yaml:"swarm"`
	Connections ConnectionsConfig  `yaml:"connections"`
	Resources   ResourcesConfig    `yaml:"resources"`
	DHT         dht.Config         `yaml:"dht"`
	Discovery   discovery.Config   `yaml:"discovery"`
	Content     content.Config     `yaml:"content"`
	Replication replication.Config `yaml:"replication"`
	Datastore   DatastoreConfig    `yaml:"datastore"`
	Shell       ShellConfig        `yaml:"shell"`
	Gateway     GatewayConfig      `yaml:"gateway"`
	Log         LogConfig          `yaml:"log"`

	// Reachability: AutoNAT, relays, hole punching, port mapping.
	Reachability ReachabilityConfig `yaml:"reachability"`

	// RepoDir is where identity, datastore and the api and gateway files live; it is not
	// read from the file. Empty means an ephemeral in-memory node (tests).
	RepoDir string `yaml:"-"`
}

// SwarmConfig says where the libp2p host listens.
type SwarmConfig struct {
	// Listen lists multiaddrs for TCP and QUIC; port 0 picks a free port.
	Listen []string `yaml:"listen"`
	// AddrFilters lists address ranges (/ip4/10.0.0.0/ipcidr/8) never
	// dialled, accepted from or announced (addrfilter.go).
	AddrFilters []string `yaml:"addr_filters"`
}

// ConnectionsConfig bounds the connection manager.
type ConnectionsConfig struct {
	Low         int           `yaml:"low"`          // trim down to this many connections
	High        int           `yaml:"high"`         // start trimming above this many
	GracePeriod time.Duration `yaml:"grace_period"` // new connections are never trimmed this young
}

// ResourcesConfig bounds what the libp2p resource manager lets peers use.
type ResourcesConfig struct {
	MaxMemory int64 `yaml:"max_memory"` // bytes; 0 means 1/8 of the machine's memory
	MaxFDs    int   `yaml:"max_fds"`    // file descriptors; 0 means half the process limit
}

// DatastoreConfig picks the embedded store.
type DatastoreConfig struct {
	// Type is "disk" (in the repo: blocks in pack files, or in flatfs for
	// a repo made before packs; the rest in pebble) or "memory" (gone on
	// exit). "flatfs", its name before packs, still means disk.
	Type string `yaml:"type"`
	// Sync flushes blocks to disk before any pin record is written
	// (disk only), so added and pinned content survives a power loss.
	Sync bool `yaml:"sync"`
}

// ShellConfig is where the HTTP shell listens, plus the shell's own settings.
type ShellConfig struct {
	Address      string `yaml:"address"` // host:port; loopback unless access_token is set
	shell.Config `yaml:",inline"`
}

// LogConfig sets how much the daemon logs.
type LogConfig struct {
	Level string `yaml:"level"` // debug, info, warn or error
}

// DefaultConfig returns the defaults that config.yaml documents.
func DefaultConfig() Config {
	port := strconv.Itoa(DefaultSwarmPort)
	return Config{
		Swarm: SwarmConfig{Listen: []string{
			"/ip4/0.0.0.0/tcp/" + port,
			"/ip4/0.0.0.0/udp/" + port + "/quic-v1",
			"/ip6/::/tcp/" + port,
			"/ip6/::/udp/" + port + "/quic-v1",
		}},
		Connections: ConnectionsConfig{Low: 32, High: 96, GracePeriod: 20 * time.Second},
		DHT:         dht.DefaultConfig(),
		Discovery:   discovery.DefaultConfig(),
		Content:     content.DefaultConfig(),
		Replication: replication.DefaultConfig(),
		Datastore:   DatastoreConfig{Type: "disk", Sync: true},
		Shell:       ShellConfig{Address: DefaultShellAddr, Config: shell.DefaultConfig()},
		Gateway:     GatewayConfig{Address: DefaultGatewayAddr},
		Log:         LogConfig{Level: "warn"},

		Reachability: DefaultReachabilityConfig(),
	}
}

// Validate checks every section and names the first bad key.
func (c Config) Validate() error {
	// A node behind NAT may listen only through its relays.
	if len(c.Swarm.Listen) == 0 && (!c.Reachability.RelayClient || len(c.Reachability.StaticRelays) == 0) {
		return fmt.Errorf("swarm.listen: at least one address is needed (or reachability.static_relays, to listen only through relays)")
	}
	for i, s := range c.Swarm.Listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("swarm.listen[%d]: bad multiaddr %q: %w", i, s, err)
		}
	}
	if _, err := parseAddrFilters(c.Swarm.AddrFilters); err != nil {
		return err
	}
	if err := c.Connections.validate(); err != nil {
		return err
	}
	if err := c.Reachability.Validate(); err != nil {
		return err
	}
	if c.Resources.MaxMemory < 0 || c.Resources.MaxFDs < 0 {
		return fmt.Errorf("resources: max_memory and max_fds must not be negative")
	}
	switch c.Datastore.Type {
	case "disk", "memory", "flatfs":
	default:
		return fmt.Errorf("datastore.type: %q is not one of disk, memory", c.Datastore.Type)
	}
	if err := c.Shell.validate(); err != nil {
		return err
	}
	if err := c.Gateway.validate(c.Shell); err != nil {
		return err
	}
	if _, err := ParseLogLevel(c.Log.Level); err != nil {
		return err
	}
	for _, v := range []interface{ Validate() error }{c.DHT, c.Discovery, c.Content, c.Replication} {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	return nil
}

func (c ConnectionsConfig) validate() error {
	switch {
	case c.Low < 0:
		return fmt.Errorf("connections.low: %d is negative", c.Low)
	case c.High < c.Low || c.High < 1:
		return fmt.Errorf("connections.high: %d must be at least 1 and at least connections.low (%d)", c.High, c.Low)
	case c.GracePeriod < 0:
		return fmt.Errorf("connections.grace_period: %s is negative", c.GracePeriod)
	}
	return nil
}

func (c ShellConfig) validate() error {
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("shell.address: %q is not host:port: %w", c.Address, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("shell.address: port %q is not a number from 0 to 65535", port)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && ip == nil {
		return fmt.Errorf("shell.address: %q is not an IP address or localhost", host)
	}
	// An open shell on a public interface hands the node to anyone: demand a token.
	if (ip == nil || !ip.IsLoopback()) && host != "localhost" && c.AccessToken == "" {
		return fmt.Errorf("shell.address: %s is not loopback; set shell.access_token to expose the shell", c.Address)
	}
	if err := c.Config.Validate(); err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	return nil
}
