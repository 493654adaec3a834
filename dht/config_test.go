package dht

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"ipfs prefix", func(c *Config) { c.ProtocolPrefix = "/ipfs" }, ""},
		{"server", func(c *Config) { c.Mode = ModeServer }, ""},
		{"unknown mode", func(c *Config) { c.Mode = "Server" }, "dht.mode"},
		{"prefix without slash", func(c *Config) { c.ProtocolPrefix = "cairn" }, "dht.protocol_prefix"},
		{"prefix with trailing slash", func(c *Config) { c.ProtocolPrefix = "/cairn/" }, "dht.protocol_prefix"},
		{"empty prefix", func(c *Config) { c.ProtocolPrefix = "" }, "dht.protocol_prefix"},
		{"refresh too fast", func(c *Config) { c.RefreshInterval = time.Millisecond }, "dht.refresh_interval"},
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

func TestDefaultPrefixIsNotThePublicDHT(t *testing.T) {
	if DefaultConfig().ProtocolPrefix == "/ipfs" {
		t.Fatal("the default prefix would join the public IPFS DHT")
	}
}
