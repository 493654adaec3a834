package peer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// documentedConfig is the project's config.yaml, as init copies it.
func documentedConfig(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// commentLines are the comment lines of a YAML text, trimmed.
func commentLines(data []byte) []string {
	var out []string
	for line := range strings.Lines(string(data)) {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// An edit that changes nothing gives back config.yaml byte for byte:
// comments, blank lines and layout survive the node tree.
func TestEditConfigKeepsTheFileAsItIs(t *testing.T) {
	data := documentedConfig(t)
	out, _, err := editConfig(data, func(*yaml.Node) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(data) {
		t.Fatalf("a no-op edit changed config.yaml:\n%s", out)
	}
}

func TestProfilesAppliedInPlace(t *testing.T) {
	data := documentedConfig(t)
	tests := []struct {
		profiles []string
		check    func(t *testing.T, c Config)
	}{
		{[]string{"server"}, func(t *testing.T, c Config) {
			if c.Discovery.MDNS || c.Reachability.PortMapping || !slices.Equal(c.Swarm.AddrFilters, PrivateAddrFilters) {
				t.Errorf("mdns %v, port mapping %v, filters %v", c.Discovery.MDNS, c.Reachability.PortMapping, c.Swarm.AddrFilters)
			}
		}},
		{[]string{"lowpower"}, func(t *testing.T, c Config) {
			if c.DHT.Mode != "client" || c.Connections.Low != 20 || c.Connections.High != 40 || c.Connections.GracePeriod != time.Minute ||
				c.Reachability.AutoNATService || c.Reachability.RelayService {
				t.Errorf("dht %s, connections %+v, reachability %+v", c.DHT.Mode, c.Connections, c.Reachability)
			}
		}},
		{[]string{"randomports"}, func(t *testing.T, c Config) {
			want := []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1", "/ip6/::/tcp/0", "/ip6/::/udp/0/quic-v1"}
			if !slices.Equal(c.Swarm.Listen, want) || c.Shell.Address != DefaultShellAddr || c.Gateway.Address != DefaultGatewayAddr {
				t.Errorf("listen %v, shell %s", c.Swarm.Listen, c.Shell.Address)
			}
		}},
		{[]string{"test"}, func(t *testing.T, c Config) {
			if !slices.Equal(c.Swarm.Listen, []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}) ||
				c.Shell.Address != "127.0.0.1:0" || c.Gateway.Address != "127.0.0.1:0" || len(c.Discovery.Bootstrap) != 0 || c.Discovery.MDNS || c.Reachability.PortMapping {
				t.Errorf("%+v", c)
			}
		}},
		// Later profiles see what earlier ones did, and applying one twice
		// adds nothing twice.
		{[]string{"server", "lowpower", "server"}, func(t *testing.T, c Config) {
			if c.DHT.Mode != "client" || c.Discovery.MDNS || !slices.Equal(c.Swarm.AddrFilters, PrivateAddrFilters) {
				t.Errorf("dht %s, mdns %v, filters %v", c.DHT.Mode, c.Discovery.MDNS, c.Swarm.AddrFilters)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.profiles, ","), func(t *testing.T) {
			out, err := ApplyProfiles(data, tt.profiles...)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := ParseConfig(out)
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
			if got, want := commentLines(out), commentLines(data); !slices.Equal(got, want) {
				t.Errorf("comments changed: %d lines, want %d", len(got), len(want))
			}
		})
	}
	if _, err := ApplyProfiles(data, "turbo"); err == nil || !strings.Contains(err.Error(), `unknown profile "turbo"`) {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestSetConfigChecksBeforeWriting(t *testing.T) {
	repo := t.TempDir()
	path := filepath.Join(repo, ConfigFile)
	data := documentedConfig(t)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := []ConfigSetting{
		{Key: "connections.low", Text: "many"},
		{Key: "connections.high", Text: "1"}, // below low
		{Key: "swarm.listen", Text: "[/ip4/1.2.3.4/tcp/99999]"},
		{Key: "discovery.nope", Text: "1"},
		{Key: "connections.low", Text: "{", JSON: true},
	}
	for _, s := range bad {
		if _, err := SetConfig(repo, s); err == nil {
			t.Errorf("%s = %q was accepted", s.Key, s.Text)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != string(data) {
		t.Fatal("a refused change was written")
	}

	cfg, err := SetConfig(repo,
		ConfigSetting{Key: "connections.low", Text: "5"},
		ConfigSetting{Key: "discovery.namespace", Text: "true"}, // a string key takes text as it is
		ConfigSetting{Key: "swarm.listen", Text: `["/ip4/127.0.0.1/tcp/0"]`, JSON: true},
		ConfigSetting{Key: "dht.refresh_interval", Text: "90s"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Connections.Low != 5 || cfg.Discovery.Namespace != "true" || !slices.Equal(cfg.Swarm.Listen, []string{"/ip4/127.0.0.1/tcp/0"}) || cfg.DHT.RefreshInterval != 90*time.Second {
		t.Fatalf("%+v", cfg)
	}
	out, _ := os.ReadFile(path)
	if got, want := commentLines(out), commentLines(data); !slices.Equal(got, want) {
		t.Fatalf("comments changed:\n%s", out)
	}
	if !strings.Contains(string(out), "\n  low: 5\n") {
		t.Fatalf("connections.low not written in place:\n%s", out)
	}
}

// A file that leaves sections out gets them created.
func TestSetConfigCreatesMissingSections(t *testing.T) {
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, ConfigFile), []byte("# mine\nlog:\n  level: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := SetConfig(repo, ConfigSetting{Key: "discovery.mdns", Value: false})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discovery.MDNS || cfg.Log.Level != "info" {
		t.Fatalf("%+v", cfg)
	}
	out, _ := os.ReadFile(filepath.Join(repo, ConfigFile))
	if want := "# mine\nlog:\n  level: info\n\ndiscovery:\n  mdns: false\n"; string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	for _, key := range []string{"nosuch", "log.level.deeper", ""} {
		if _, err := ConfigValue(cfg, key); err == nil {
			t.Errorf("ConfigValue(%q) found something", key)
		}
	}
	if v, err := ConfigValue(cfg, "log.level"); err != nil || v != "info" {
		t.Fatalf("log.level = %v, %v", v, err)
	}
}
