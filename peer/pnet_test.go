package peer

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// A generated key is in Kubo's format, private to the user, and reads back.
func TestGenerateSwarmKeyIsKubosFormat(t *testing.T) {
	dir := t.TempDir()
	if err := GenerateSwarmKey(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SwarmKeyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^/key/swarm/psk/1\.0\.0/\n/base16/\n[0-9a-f]{64}\n$`).Match(data) {
		t.Fatalf("swarm.key is not in Kubo's format:\n%s", data)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("swarm.key has mode %v, want 0600", st.Mode().Perm())
	}
	psk, err := LoadSwarmKey(dir)
	if err != nil || len(psk) != 32 {
		t.Fatalf("LoadSwarmKey: %d bytes, %v", len(psk), err)
	}
	if err := GenerateSwarmKey(dir); err == nil {
		t.Fatal("a second GenerateSwarmKey replaced the key")
	}
	if psk, err := LoadSwarmKey(t.TempDir()); psk != nil || err != nil {
		t.Fatalf("no swarm.key should mean a public network, got %v, %v", psk, err)
	}
	os.WriteFile(path, []byte("not a key\n"), 0o600)
	if _, err := LoadSwarmKey(dir); err == nil || !strings.Contains(err.Error(), "swarm.key") {
		t.Fatalf("a malformed key should be an error naming swarm.key, got %v", err)
	}
}

func TestPrivateListenAddrsKeepsTCPOnly(t *testing.T) {
	got, err := privateListenAddrs(DefaultConfig().Swarm.Listen)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.Contains(got[0], "/tcp/") || !strings.Contains(got[1], "/tcp/") {
		t.Fatalf("kept %v, want the two TCP addresses", got)
	}
	if _, err := privateListenAddrs([]string{"/ip4/127.0.0.1/udp/0/quic-v1"}); err == nil || !strings.Contains(err.Error(), "swarm.listen") {
		t.Fatalf("QUIC only with a swarm key should be an error naming swarm.listen, got %v", err)
	}
}

// privateHost starts a host on loopback whose repo holds the given swarm
// key ("" for none), through the same newHost the node uses.
func privateHost(t *testing.T, swarmKey string) host.Host {
	t.Helper()
	cfg := testConfig()
	cfg.RepoDir = t.TempDir()
	if swarmKey != "" {
		if err := os.WriteFile(filepath.Join(cfg.RepoDir, SwarmKeyFile), []byte(swarmKey), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHost(key, cfg, newNodeMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func newSwarmKey(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := GenerateSwarmKey(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, SwarmKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Peers sharing a swarm key connect; a peer with another key, or none,
// is refused in both directions.
func TestPrivateNetworkRefusesOutsiders(t *testing.T) {
	key := newSwarmKey(t)
	a := privateHost(t, key)
	for _, addr := range a.Addrs() {
		if strings.Contains(addr.String(), "/udp/") {
			t.Fatalf("private host listens on %s: QUIC cannot carry a swarm key", addr)
		}
	}
	member := privateHost(t, key)
	if err := dial(member, a); err != nil {
		t.Fatalf("peer with the same key refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		key  string
	}{{"another key", newSwarmKey(t)}, {"no key", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			outsider := privateHost(t, tc.key)
			// A refused handshake hangs until the dial's timeout (the
			// other side reads noise), so both directions run at once.
			back := make(chan error, 1)
			go func() { back <- dial(a, outsider) }()
			if err := dial(outsider, a); err == nil {
				t.Error("outsider connected to the private network")
			}
			if err := <-back; err == nil {
				t.Error("private peer connected to an outsider")
			}
			if n := len(a.Network().ConnsToPeer(outsider.ID())); n != 0 {
				t.Fatalf("%d connections between the private peer and the outsider", n)
			}
		})
	}
}

func dial(from, to host.Host) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	from.Network().ClosePeer(to.ID())
	return from.Connect(ctx, libp2ppeer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()})
}
