package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// profileRepo initialises a repo with `init --profile test`: loopback on
// free ports, no bootstrap peers, no mDNS, as the tests need.
func profileRepo(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	cairnOK(t, "init", "--repo", repo, "--profile", "test")
	return repo
}

// Kubo's commands Cairn added with its new CLI, against real daemons: dag
// stat and get, pin verify, block rm, findpeer, provide, disconnect,
// config and bootstrap, then shutdown.
func TestKuboCommandsOnDaemons(t *testing.T) {
	a := startDaemon(t, profileRepo(t))
	b := startDaemon(t, profileRepo(t), "--bootstrap", a.swarm[0])
	eventually(t, 30*time.Second, b.id, "swarm", "peers", "--repo", a.repo)

	data := randomData(t, 3<<20)
	root := addFile(t, a.repo, data)
	var st struct {
		UniqueBlocks int
		TotalSize    int
	}
	if err := json.Unmarshal([]byte(cairnOK(t, "dag", "stat", "--enc=json", "--repo", a.repo, root)), &st); err != nil {
		t.Fatal(err)
	}
	if st.UniqueBlocks != 4 || st.TotalSize < len(data) {
		t.Fatalf("dag stat of a 3 MiB file in 1 MiB chunks: %+v", st)
	}
	var node struct {
		Links []struct{ Hash map[string]string }
	}
	if err := json.Unmarshal([]byte(cairnOK(t, "dag", "get", "--repo", a.repo, root)), &node); err != nil || len(node.Links) != 3 {
		t.Fatalf("dag get: %+v, %v", node, err)
	}
	if out := cairnOK(t, "pin", "verify", "--verbose", "--repo", a.repo); !strings.Contains(out, root+" ok\n") {
		t.Fatalf("pin verify: %q", out)
	}

	// block rm refuses a pinned block and removes it once unpinned.
	out, _, code := cairn(t, "block", "rm", "--repo", a.repo, root)
	if code != 1 || !strings.Contains(out, "pinned: recursive") {
		t.Fatalf("block rm of a pinned root: exit %d, %q", code, out)
	}
	cairnOK(t, "pin", "rm", "--repo", a.repo, root)
	if out := cairnOK(t, "block", "rm", "--repo", a.repo, root); out != "removed "+root+"\n" {
		t.Fatalf("block rm: %q", out)
	}

	// Routing: A finds B, and announces content B can then find.
	if out := cairnOK(t, "routing", "findpeer", "--repo", a.repo, b.id); !strings.Contains(out, "/ip4/127.0.0.1/") {
		t.Fatalf("findpeer: %q", out)
	}
	other := addFile(t, a.repo, randomData(t, 1000))
	eventually(t, 30*time.Second, "provided "+other, "routing", "provide", "-v", "--repo", a.repo, other)
	eventually(t, 30*time.Second, a.id, "routing", "findprovs", "--repo", b.repo, other)
	if out := cairnOK(t, "swarm", "disconnect", "--repo", a.repo, b.swarm[0]); out != "disconnect "+b.id+" success\n" {
		t.Fatalf("disconnect: %q", out)
	}

	// Config and bootstrap edit the repo's file; the running daemon needs
	// a restart for them, and says so. Through --api, the daemon edits it.
	_, errOut, code := cairn(t, "config", "set", "--repo", b.repo, "connections.low", "5")
	if code != 0 || !strings.Contains(errOut, "restart the daemon") {
		t.Fatalf("config set: exit %d, %q", code, errOut)
	}
	api, err := os.ReadFile(filepath.Join(b.repo, "api"))
	if err != nil {
		t.Fatal(err)
	}
	if out := cairnOK(t, "config", "get", "--api", strings.TrimSpace(string(api)), "connections.low"); out != "5\n" {
		t.Fatalf("config get over the API: %q", out)
	}
	if out := cairnOK(t, "bootstrap", "add", "--api", strings.TrimSpace(string(api)), a.swarm[0]); out != "added "+a.swarm[0]+"\n" {
		t.Fatalf("bootstrap add over the API: %q", out)
	}
	if out := cairnOK(t, "bootstrap", "list", "--repo", b.repo); out != a.swarm[0]+"\n" {
		t.Fatalf("bootstrap list: %q", out)
	}

	// shutdown: the daemon answers, then exits cleanly with its api file.
	cairnOK(t, "shutdown", "--repo", b.repo)
	select {
	case <-b.proc.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon did not exit after shutdown")
	}
	if err := b.proc.Stop(time.Second); err != nil {
		t.Fatalf("after shutdown: %v", err)
	}
	if _, err := os.Stat(filepath.Join(b.repo, "api")); !os.IsNotExist(err) {
		t.Fatalf("api file after shutdown: %v", err)
	}
}
