package discovery

import (
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
)

func TestConfigValidate(t *testing.T) {
	const id = "12D3KooWEvURwYUky5rSt9z7tbrhw1DMFFh6rBxGpD5JAUt83vpK"
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"good bootstrap", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4201/p2p/" + id} }, ""},
		{"bootstrap without peer id", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4201"} }, "discovery.bootstrap[0]"},
		{"malformed bootstrap", func(c *Config) { c.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4201/p2p/" + id, "/ip9/x"} }, "discovery.bootstrap[1]"},
		{"interval too short", func(c *Config) { c.Interval = time.Microsecond }, "discovery.interval"},
		{"backoff below interval", func(c *Config) { c.MaxBackoff = time.Second }, "discovery.max_backoff"},
		{"rendezvous off", func(c *Config) { c.Namespace = "" }, ""},
		{"namespace with spaces", func(c *Config) { c.Namespace = " cairn" }, "discovery.namespace"},
		{"remember nobody", func(c *Config) { c.RememberedPeers = 0 }, ""},
		{"negative remembered peers", func(c *Config) { c.RememberedPeers = -1 }, "discovery.remembered_peers"},
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

func TestNextBackoffDoublesUpToTheCeiling(t *testing.T) {
	var got []time.Duration
	d := time.Duration(0)
	for range 6 {
		d = nextBackoff(d, 10*time.Second)
		got = append(got, d)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff sequence %v, want %v", got, want)
		}
	}
}

func newHost(t *testing.T, key crypto.PrivKey, listen string) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings(listen), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// A bootstrap peer that is down when the node starts is joined as soon as
// it comes up: upkeep retries with backoff instead of giving up.
func TestBootstrapRetriesUntilThePeerAnswers(t *testing.T) {
	keyA, _, _ := crypto.GenerateEd25519Key(nil)
	a := newHost(t, keyA, "/ip4/127.0.0.1/tcp/0")
	listen := a.Addrs()[0].String()
	addr := listen + "/p2p/" + a.ID().String()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	cfg := Config{Bootstrap: []string{addr}, Interval: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}
	connected := make(chan struct{})
	b.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		if c.RemotePeer() == a.ID() {
			select {
			case <-connected:
			default:
				close(connected)
			}
		}
	}})
	d, err := New(b, nil, nil, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	// A returns on the same address with the same identity.
	newHost(t, keyA, listen)
	select {
	case <-connected:
	case <-time.After(15 * time.Second):
		t.Fatal("bootstrap peer came back but was never dialled again")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func newKey(t *testing.T) crypto.PrivKey {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
