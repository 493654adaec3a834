package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// eventually runs a client command until its output contains want.
func eventually(t *testing.T, within time.Duration, want string, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		out, errOut, _ := cairn(t, args...)
		if strings.Contains(out, want) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("cairn %s: no %q within %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), want, within, out, errOut)
		}
		time.Sleep(100 * time.Millisecond) // polling a separate process
	}
}

// `init --private` makes a private network: a peer holding a copy of the
// key joins, listening on TCP only; a peer without it is refused. The
// visibility commands (id, addrs, routing) work against the daemons.
func TestPrivateNetworkDaemons(t *testing.T) {
	repoA := filepath.Join(t.TempDir(), "a")
	out := cairnOK(t, "init", "--private", "--repo", repoA)
	if !strings.Contains(out, "swarm.key") {
		t.Fatalf("init --private did not mention the key:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(repoA, "config.yaml"), []byte(testRepoConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(repoA, "swarm.key"))
	if err != nil {
		t.Fatal(err)
	}
	repoB := newRepo(t)
	if err := os.WriteFile(filepath.Join(repoB, "swarm.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}

	a := startDaemon(t, repoA)
	for _, addr := range a.swarm {
		if strings.Contains(addr, "/udp/") {
			t.Fatalf("private daemon listens on %s: QUIC cannot carry the swarm key", addr)
		}
	}
	startDaemon(t, repoB, "--bootstrap", a.swarm[0])
	eventually(t, 20*time.Second, a.id, "peers", "--repo", repoB)

	outsider := startDaemon(t, newRepo(t))
	if _, errOut, code := cairn(t, "connect", "--repo", outsider.repo, "--timeout", "3s", a.swarm[0]); code == 0 {
		t.Fatalf("a peer without the swarm key connected to the private network (%s)", errOut)
	}

	id := cairnOK(t, "id", "--repo", repoB)
	if !strings.Contains(id, `"Reachability"`) {
		t.Errorf("cairn id does not report reachability:\n%s", id)
	}
	eventually(t, 20*time.Second, a.id, "addrs", "--repo", repoB)
	eventually(t, 20*time.Second, a.id, "stats", "dht", "--repo", repoB, "lan")
}
