package content

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string // "" for valid; else a prefix of the error
	}{
		{"defaults", func(*Config) {}, ""},
		{"chunk 1 KiB", func(c *Config) { c.ChunkSize = 1024 }, ""},
		{"chunk at limit", func(c *Config) { c.ChunkSize = 2<<20 - 256 }, ""},
		{"chunk too small", func(c *Config) { c.ChunkSize = 1023 }, "content.chunk_size: must be between 1 KiB"},
		{"chunk too large", func(c *Config) { c.ChunkSize = 2 << 20 }, "content.chunk_size: must be between 1 KiB"},
		{"chunk zero", func(c *Config) { c.ChunkSize = 0 }, "content.chunk_size:"},
		{"links 2", func(c *Config) { c.MaxLinks = 2 }, ""},
		{"links 1", func(c *Config) { c.MaxLinks = 1 }, "content.max_links: must be between 2 and 8192"},
		{"links too many", func(c *Config) { c.MaxLinks = 8193 }, "content.max_links:"},
		{"cid v0 legacy", func(c *Config) { c.CIDVersion = 0; c.RawLeaves = false }, ""},
		{"cid v2", func(c *Config) { c.CIDVersion = 2 }, "content.cid_version: must be 0 or 1"},
		{"cid v0 raw leaves", func(c *Config) { c.CIDVersion = 0 }, "content.raw_leaves:"},
		{"cid v0 blake3", func(c *Config) { c.CIDVersion = 0; c.RawLeaves = false; c.HashFunction = "blake3" }, "content.hash_function: must be sha2-256"},
		{"blake3", func(c *Config) { c.HashFunction = "blake3" }, ""},
		{"unknown hash", func(c *Config) { c.HashFunction = "sha2-257" }, "content.hash_function: unknown multihash"},
		{"md5", func(c *Config) { c.HashFunction = "md5" }, "content.hash_function: multihash \"md5\" is not allowed"},
		{"identity", func(c *Config) { c.HashFunction = "identity" }, "content.hash_function:"},
		{"empty hash", func(c *Config) { c.HashFunction = "" }, "content.hash_function:"},
		{"reprovide off", func(c *Config) { c.ReprovideInterval = 0 }, ""},
		{"reprovide 1m", func(c *Config) { c.ReprovideInterval = time.Minute }, ""},
		{"reprovide 1s", func(c *Config) { c.ReprovideInterval = time.Second }, "content.reprovide_interval: must be 0 (disabled) or at least 1m0s"},
		{"reprovide negative", func(c *Config) { c.ReprovideInterval = -time.Hour }, "content.reprovide_interval:"},
		{"strategy pinned", func(c *Config) { c.ProvideStrategy = StrategyPinned }, ""},
		{"strategy all", func(c *Config) { c.ProvideStrategy = StrategyAll }, ""},
		{"strategy empty", func(c *Config) { c.ProvideStrategy = "" }, "content.provide_strategy: must be"},
		{"strategy flat", func(c *Config) { c.ProvideStrategy = "flat" }, "content.provide_strategy:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("Validate() = nil, want %q…", tt.wantErr)
			case tt.wantErr != "" && !strings.HasPrefix(err.Error(), tt.wantErr):
				t.Fatalf("Validate() = %q, want prefix %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaultConfigIsUnixFSv1_2025(t *testing.T) {
	cfg := DefaultConfig()
	want := Config{ChunkSize: 1048576, MaxLinks: 1024, CIDVersion: 1, RawLeaves: true, HashFunction: "sha2-256",
		ReprovideInterval: 22 * time.Hour, ProvideStrategy: "roots", FastPath: true}
	if cfg != want {
		t.Fatalf("DefaultConfig() = %+v, want %+v", cfg, want)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLinks = 0
	_, err := New(t.Context(), nil, nil, NewMemoryDatastore(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "content.max_links:") {
		t.Fatalf("New with bad config: err = %v", err)
	}
}

// failingGets is a datastore whose every Get fails, which the pinner, the
// last part New builds, trips over.
type failingGets struct{ datastore.Batching }

var errDisk = errors.New("disk unreadable")

func (failingGets) Get(context.Context, datastore.Key) ([]byte, error) { return nil, errDisk }

// TestNewUndoesOnFailure: when New fails half-way, what it had started
// (Bitswap's protocol handlers on the host, the provider) is stopped.
func TestNewUndoesOnFailure(t *testing.T) {
	h := newHost(t)
	r := newFakeRouting().routerFor(h)
	_, err := New(t.Context(), h, r, failingGets{NewMemoryDatastore()}, DefaultConfig())
	// boxo's pinner formats the cause with %v, so only its text survives.
	if err == nil || !strings.HasPrefix(err.Error(), "content: pinner:") || !strings.Contains(err.Error(), errDisk.Error()) {
		t.Fatalf("New over a failing datastore: err = %v", err)
	}
	for _, p := range h.Mux().Protocols() {
		if strings.Contains(string(p), "bitswap") {
			t.Fatalf("protocol %s still handled after New failed", p)
		}
	}
}

func TestScrubIntervalBounds(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, time.Minute: true, time.Second: false, -time.Minute: false} {
		cfg := DefaultConfig()
		cfg.ScrubInterval = d
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("scrub_interval %s: %v", d, err)
		}
	}
}
