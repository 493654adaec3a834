package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ipfsapi "github.com/ipfs/go-ipfs-api"
)

// kuboCLI runs Kubo's own ipfs CLI against Cairn's shell, as a Kubo user
// would with `ipfs --api`.
type kuboCLI struct {
	api  string // Cairn's shell multiaddr
	repo string // an empty IPFS_PATH: nothing may come from a local Kubo repo
}

func newKuboCLI(t *testing.T, c *cairnNode) *kuboCLI {
	t.Helper()
	needKubo(t)
	repo := filepath.Join(t.TempDir(), "no-repo")
	if err := os.Mkdir(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	return &kuboCLI{api: c.api, repo: repo}
}

func (k *kuboCLI) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	env := append([]string{"IPFS_PATH=" + k.repo}, kuboEnv...)
	return runCmd(t, 60*time.Second, env, kuboBin, append([]string{"--api", k.api}, args...)...)
}

// ok runs a command that must succeed. A command Cairn's shell does not
// serve fails with that reason: Kubo's CLI turns the shell's 404 into
// "Command not found", and some commands (dag export) still exit 0.
func (k *kuboCLI) ok(t *testing.T, endpoint string, args ...string) string {
	t.Helper()
	out, errOut, code := k.run(t, args...)
	if strings.Contains(errOut, "Command not found") {
		t.Fatalf("Cairn's shell does not serve /api/v0/%s (ipfs %s: %s)", endpoint, strings.Join(args, " "), oneLine(errOut))
	}
	if code != 0 {
		t.Fatalf("ipfs --api %s %s: exit %d: %s", k.api, strings.Join(args, " "), code, oneLine(errOut))
	}
	return out
}

// Kubo's CLI drives Cairn's shell unchanged, with the output a Kubo user
// expects.
func TestKuboCLIOnCairn(t *testing.T) {
	t.Parallel()
	c := startCairn(t)
	k := startKubo(t)
	cli := newKuboCLI(t, c)
	path, want := randomFile(t, 2<<20+3)
	kuboCID := lastLine(k.ok(t, time.Minute, "add", "-Q", path)) // unixfs-v1-2025 profile
	var root string

	t.Run("add", func(t *testing.T) {
		out := cli.ok(t, "add", "add", path)
		wantLine := "added " + kuboCID + " " + filepath.Base(path)
		if !strings.Contains(out, wantLine) {
			t.Fatalf("ipfs add printed %q, want a line %q", out, wantLine)
		}
		root = kuboCID
	})
	if root == "" {
		root = lastLine(c.ok(t, time.Minute, "add", "-q", path))
	}

	t.Run("cat", func(t *testing.T) {
		if s := sha([]byte(cli.ok(t, "cat", "cat", root))); s != want {
			t.Fatalf("ipfs cat: SHA-256 %s, want %s", s, want)
		}
	})

	t.Run("get", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "got")
		cli.ok(t, "get", "get", "-o", out, root)
		if s := fileSHA(t, out); s != want {
			t.Fatalf("ipfs get: SHA-256 %s, want %s", s, want)
		}
	})

	t.Run("add_and_get_directory", func(t *testing.T) {
		dir := nestedDir(t, true)
		want := lastLine(k.ok(t, time.Minute, "add", "-r", "--only-hash", "-Q", dir))
		got := lastLine(cli.ok(t, "add", "add", "-r", "-Q", dir))
		if got != want {
			t.Fatalf("ipfs add -r on Cairn gives %s, on Kubo %s", got, want)
		}
		out := filepath.Join(t.TempDir(), "copy")
		cli.ok(t, "get", "get", "-o", out, got)
		sameTree(t, dir, out)
	})

	t.Run("id", func(t *testing.T) {
		var id struct {
			ID        string
			PublicKey string
			Addresses []string
		}
		out := cli.ok(t, "id", "id")
		if err := json.Unmarshal([]byte(out), &id); err != nil {
			t.Fatalf("ipfs id: %v in %q", err, out)
		}
		if id.ID != c.id || id.PublicKey == "" || len(id.Addresses) == 0 {
			t.Fatalf("ipfs id: %+v, want ID %s with a key and addresses", id, c.id)
		}
	})

	t.Run("swarm_connect", func(t *testing.T) {
		out := cli.ok(t, "swarm/connect", "swarm", "connect", k.swarm[0])
		if want := "connect " + k.id + " success"; strings.TrimSpace(out) != want {
			t.Fatalf("ipfs swarm connect printed %q, want %q", out, want)
		}
	})

	t.Run("swarm_peers", func(t *testing.T) {
		out := cli.ok(t, "swarm/peers", "swarm", "peers")
		if !strings.Contains(out, "/p2p/"+k.id) {
			t.Fatalf("ipfs swarm peers does not list Kubo %s:\n%s", k.id, out)
		}
	})

	t.Run("block_put_get_stat", func(t *testing.T) {
		data := randomBytes(1000)
		blk := filepath.Join(t.TempDir(), "blk")
		if err := os.WriteFile(blk, data, 0o644); err != nil {
			t.Fatal(err)
		}
		key := strings.TrimSpace(cli.ok(t, "block/put", "block", "put", blk))
		kuboKey := strings.TrimSpace(k.ok(t, time.Minute, "block", "put", blk))
		if key != kuboKey {
			t.Fatalf("ipfs block put on Cairn gives %s, on Kubo %s", key, kuboKey)
		}
		if got := cli.ok(t, "block/get", "block", "get", key); got != string(data) {
			t.Fatalf("ipfs block get returned %d bytes, not the %d put", len(got), len(data))
		}
		stat := cli.ok(t, "block/stat", "block", "stat", key)
		if want := "Key: " + key + "\nSize: 1000\n"; stat != want {
			t.Fatalf("ipfs block stat printed %q, want %q", stat, want)
		}
	})

	t.Run("version", func(t *testing.T) {
		// `ipfs version` answers from the CLI binary and never asks the
		// daemon, so the RPC call is checked directly.
		var v struct{ Version, System, Golang string }
		rpcJSON(t, c.api, "version", nil, &v)
		if v.Version == "" || v.System == "" || v.Golang == "" {
			t.Fatalf("/api/v0/version: %+v, want Version, System and Golang", v)
		}
	})

	t.Run("pin_add_ls_rm", func(t *testing.T) {
		if out := cli.ok(t, "pin/add", "pin", "add", root); strings.TrimSpace(out) != "pinned "+root+" recursively" {
			t.Fatalf("ipfs pin add printed %q", out)
		}
		if out := cli.ok(t, "pin/ls", "pin", "ls", "--type=recursive"); !strings.Contains(out, root+" recursive") {
			t.Fatalf("ipfs pin ls does not list %s as recursive:\n%s", root, out)
		}
		if out := cli.ok(t, "pin/rm", "pin", "rm", root); strings.TrimSpace(out) != "unpinned "+root {
			t.Fatalf("ipfs pin rm printed %q", out)
		}
	})

	t.Run("dag_export", func(t *testing.T) {
		got := cli.ok(t, "dag/export", "dag", "export", root)
		wantCAR := k.ok(t, time.Minute, "dag", "export", root)
		if got != wantCAR {
			t.Fatalf("ipfs dag export: Cairn's CAR (%d bytes, %.12s) differs from Kubo's (%d bytes, %.12s)",
				len(got), sha([]byte(got)), len(wantCAR), sha([]byte(wantCAR)))
		}
	})

	t.Run("repo_gc", func(t *testing.T) {
		cli.ok(t, "repo/gc", "repo", "gc")
	})

	// Endpoints Cairn does not serve: Kubo's CLI must get the 404 it knows
	// ("Command not found") promptly, and the daemon must live on.
	t.Run("unserved_endpoints", func(t *testing.T) {
		for _, args := range [][]string{
			{"name", "resolve"}, {"files", "ls"}, {"key", "list"}, {"pubsub", "ls"}, {"stats", "repo"},
		} {
			start := time.Now()
			_, errOut, code := cli.run(t, args...)
			if code == 0 || !strings.Contains(errOut, "Command not found") {
				t.Errorf("ipfs %s: exit %d, stderr %q; want Kubo's \"Command not found\"", strings.Join(args, " "), code, errOut)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("ipfs %s took %s to be refused", strings.Join(args, " "), took)
			}
		}
		resp, err := httpClient.Post(c.httpBase(t)+"/api/v0/files/ls", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Message string
			Code    int
			Type    string
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &e) != nil || e.Type != "error" || e.Message == "" {
			t.Errorf("POST /api/v0/files/ls: %s %q, want 404 with Kubo's {Message, Code, Type: error}", resp.Status, body)
		}
		if !c.alive() {
			t.Fatal("the Cairn daemon died")
		}
	})
}

// go-ipfs-api's Shell, the Go client most programs use, against Cairn.
func TestGoIPFSAPIOnCairn(t *testing.T) {
	t.Parallel()
	c := startCairn(t)
	peer := startCairn(t)
	c.ok(t, 30*time.Second, "connect", peer.swarm[0])
	sh := ipfsapi.NewShell(hostPort(t, c.api))
	sh.SetTimeout(60 * time.Second)
	data := randomBytes(3<<20 + 11)
	one := randomBytes(5000) // one raw block under unixfs-v1-2025
	var root, small string

	t.Run("Add", func(t *testing.T) {
		var err error
		if root, err = sh.Add(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		if small, err = sh.Add(bytes.NewReader(one)); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(root, "bafy") || !strings.HasPrefix(small, "bafk") {
			t.Fatalf("Add gave %s and %s; want a CIDv1 dag-pb root and a raw leaf", root, small)
		}
	})
	if root == "" {
		t.FailNow()
	}

	t.Run("Cat", func(t *testing.T) {
		r, err := sh.Cat(root)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if sha(got) != sha(data) {
			t.Fatalf("Cat: %d bytes that differ from the %d added", len(got), len(data))
		}
	})

	t.Run("ID", func(t *testing.T) {
		id, err := sh.ID()
		if err != nil {
			t.Fatal(err)
		}
		if id.ID != c.id || len(id.Addresses) == 0 {
			t.Fatalf("ID: %+v, want %s with addresses", id, c.id)
		}
	})

	t.Run("BlockGet", func(t *testing.T) {
		got, err := sh.BlockGet(small)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, one) {
			t.Fatalf("BlockGet %s: %d bytes, not the %d added", small, len(got), len(one))
		}
	})

	t.Run("SwarmPeers", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		peers, err := sh.SwarmPeers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range peers.Peers {
			if p.Peer == peer.id && p.Addr != "" {
				return
			}
		}
		t.Fatalf("SwarmPeers: %+v lacks %s", peers.Peers, peer.id)
	})

	t.Run("Pin", func(t *testing.T) {
		if err := sh.Pin(root); err != nil {
			t.Fatalf("Pin %s: %v", root, err)
		}
		pins, err := sh.Pins()
		if err != nil {
			t.Fatalf("Pins: %v", err)
		}
		if pins[root].Type != "recursive" {
			t.Fatalf("Pins: %s is %q, want recursive", root, pins[root].Type)
		}
	})
}
