package peer

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseConfigKeepsDefaultsForMissingKeys(t *testing.T) {
	cfg, err := ParseConfig([]byte("connections:\n  low: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Connections.Low = 5
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestParseConfigEmptyFileIsDefault(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n"} {
		cfg, err := ParseConfig([]byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if !reflect.DeepEqual(cfg, DefaultConfig()) {
			t.Fatalf("%q: not the default config", in)
		}
	}
}

func TestParseConfigErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "swarn:\n  listen: []\n", `unknown key "swarn" (line 1)`},
		{"unknown nested key", "dht:\n  mode: auto\n  mdoe: server\n", `unknown key "dht.mdoe" (line 3)`},
		{"unknown key under inline section", "shell:\n  adress: 127.0.0.1:1\n", `unknown key "shell.adress" (line 2)`},
		{"unknown gateway key", "gateway:\n  port: 8201\n", `unknown key "gateway.port" (line 2)`},
		{"wrong type", "connections:\n  low: lots\n", "connections.low (line 2)"},
		{"bad duration", "connections:\n  grace_period: soon\n", "connections.grace_period (line 2)"},
		{"not yaml", "dht: [\n", "not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestValidateNamesTheBadField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults are valid", func(*Config) {}, ""},
		{"bad listen multiaddr", func(c *Config) { c.Swarm.Listen = []string{"/ip4/1.2.3.4/tcp/1", "/ip4/nope/tcp/1"} }, "swarm.listen[1]"},
		{"tcp port out of range", func(c *Config) { c.Swarm.Listen = []string{"/ip4/0.0.0.0/tcp/70000"} }, "swarm.listen[0]"},
		{"no listen addresses", func(c *Config) { c.Swarm.Listen = nil }, "swarm.listen"},
		{"shell port out of range", func(c *Config) { c.Shell.Address = "127.0.0.1:70000" }, "shell.address"},
		{"shell not host:port", func(c *Config) { c.Shell.Address = "localhost" }, "shell.address"},
		{"public shell without token", func(c *Config) { c.Shell.Address = "0.0.0.0:5201" }, "access_token"},
		{"public shell with token", func(c *Config) { c.Shell.Address = "0.0.0.0:5201"; c.Shell.AccessToken = "s3cret" }, ""},
		{"gateway port out of range", func(c *Config) { c.Gateway.Address = "127.0.0.1:70000" }, "gateway.address"},
		{"gateway not host:port", func(c *Config) { c.Gateway.Address = "127.0.0.1" }, "gateway.address"},
		{"gateway by name", func(c *Config) { c.Gateway.Address = "gateway.example:8201" }, "gateway.address"},
		{"gateway on localhost", func(c *Config) { c.Gateway.Address = "localhost:8201" }, ""},
		{"gateway on ::1", func(c *Config) { c.Gateway.Address = "[::1]:8201" }, ""},
		{"public gateway without token", func(c *Config) { c.Gateway.Address = "0.0.0.0:8201" }, "shell.access_token"},
		{"public gateway with token", func(c *Config) { c.Gateway.Address = "0.0.0.0:8201"; c.Shell.AccessToken = "s3cret" }, ""},
		{"gateway on the shell's port", func(c *Config) { c.Gateway.Address = DefaultShellAddr }, "port of its own"},
		{"port zero everywhere", func(c *Config) {
			c.Swarm.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
			c.Shell.Address = "127.0.0.1:0"
			c.Gateway.Address = "127.0.0.1:0"
		}, ""},
		{"bad bootstrap", func(c *Config) { c.Discovery.Bootstrap = []string{"/ip4/127.0.0.1/tcp/1"} }, "discovery.bootstrap[0]"},
		{"low above high", func(c *Config) { c.Connections.Low = 100; c.Connections.High = 10 }, "connections.high"},
		{"bad datastore", func(c *Config) { c.Datastore.Type = "leveldb" }, "datastore.type"},
		{"bad log level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"bad dht mode", func(c *Config) { c.DHT.Mode = "sometimes" }, "dht.mode"},
		{"bad chunk size", func(c *Config) { c.Content.ChunkSize = 0 }, "content.chunk_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want it to name %q", err, tt.want)
			}
		})
	}
}

// The documented config.yaml at the project root must be exactly the
// defaults the code uses, so the documentation cannot drift.
func TestDocumentedConfigIsTheDefault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	// Compared as YAML so an empty list ([]) equals a nil default.
	got, _ := yaml.Marshal(cfg)
	want, _ := yaml.Marshal(DefaultConfig())
	if string(got) != string(want) {
		t.Fatalf("config.yaml differs from DefaultConfig:\n%s\nwant\n%s", got, want)
	}
	// Every key the code knows is written out in the documented file.
	for _, key := range []string{"grace_period", "max_memory", "loopback_on_lan", "max_backoff", "provide_strategy", "access_token", "level", "gateway"} {
		if !strings.Contains(string(data), key+":") {
			t.Errorf("config.yaml does not document %s", key)
		}
	}
	if DefaultConfig().DHT.RefreshInterval != 10*time.Minute {
		t.Errorf("unexpected refresh default")
	}
}
