package replication

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidateNamesTheKey(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range []struct {
		key string
		set func(*Config)
	}{
		{"replication.default", func(c *Config) { c.Default = MaxFactor + 1 }},
		{"replication.default", func(c *Config) { c.Default = -1 }},
		{"replication.trusted", func(c *Config) { c.Trusted = []string{"not-a-peer"} }},
		{"replication.check_interval", func(c *Config) { c.CheckInterval = 0 }},
		{"replication.request_timeout", func(c *Config) { c.RequestTimeout = -time.Second }},
		{"replication.hold_timeout", func(c *Config) { c.HoldTimeout = 0 }},
		{"replication.max_backoff", func(c *Config) { c.MaxBackoff = 0 }},
		{"replication.forget_after", func(c *Config) { c.ForgetAfter = 0 }},
		{"replication.max_repairs", func(c *Config) { c.MaxRepairs = 0 }},
		{"replication.request_rate", func(c *Config) { c.RequestRate = 0 }},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.key+":") {
			t.Errorf("%s: error %v", tc.key, err)
		}
	}
}
