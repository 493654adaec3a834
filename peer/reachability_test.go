package peer

import (
	"strings"
	"testing"
	"time"
)

func TestReachabilityConfigValidate(t *testing.T) {
	const relay = "/ip4/192.0.2.1/tcp/4201/p2p/12D3KooWEvURwYUky5rSt9z7tbrhw1DMFFh6rBxGpD5JAUt83vpK"
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"forced public", func(c *Config) { c.Reachability.Force = ForcePublic }, ""},
		{"unknown force", func(c *Config) { c.Reachability.Force = "maybe" }, "reachability.force"},
		{"static relay", func(c *Config) { c.Reachability.StaticRelays = []string{relay} }, ""},
		{"relay without peer id", func(c *Config) { c.Reachability.StaticRelays = []string{"/ip4/192.0.2.1/tcp/4201"} }, "reachability.static_relays"},
		{"static relays without the client", func(c *Config) {
			c.Reachability.StaticRelays = []string{relay}
			c.Reachability.RelayClient = false
		}, "reachability.static_relays"},
		{"unlimited relay", func(c *Config) { c.Reachability.RelayDurationLimit, c.Reachability.RelayDataLimit = 0, 0 }, ""},
		{"half a limit", func(c *Config) { c.Reachability.RelayDurationLimit = 0 }, "reachability.relay_duration_limit"},
		{"negative limit", func(c *Config) { c.Reachability.RelayDataLimit = -1 }, "relay_data_limit"},
		{"no listen address", func(c *Config) { c.Swarm.Listen = nil }, "swarm.listen"},
		{"listen only through relays", func(c *Config) {
			c.Swarm.Listen = nil
			c.Reachability.StaticRelays = []string{relay}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("error %v, want it to name %s", err, tt.want)
			}
		})
	}
}

func TestPortMappingNeverForLoopbackOnly(t *testing.T) {
	tests := []struct {
		listen []string
		want   bool
	}{
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1", "/ip6/::1/tcp/0"}, true},
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip4/0.0.0.0/tcp/4201"}, false},
		{DefaultConfig().Swarm.Listen, false},
	}
	for _, tt := range tests {
		if got := loopbackOnly(tt.listen); got != tt.want {
			t.Errorf("loopbackOnly(%v) = %v, want %v", tt.listen, got, tt.want)
		}
	}
	if d := DefaultReachabilityConfig(); d.RelayDurationLimit != 2*time.Minute || d.RelayDataLimit != 128<<10 {
		t.Errorf("relay limits %s and %d differ from go-libp2p's documented 2m and 128 KiB", d.RelayDurationLimit, d.RelayDataLimit)
	}
}
