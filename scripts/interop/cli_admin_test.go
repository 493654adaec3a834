package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Kubo's CLI drives the shell commands Cairn's Kubo-shaped CLI brought:
// config, bootstrap, dag stat and get, pin verify, findpeer, disconnect,
// block rm, and shutdown last.
func TestKuboCLIAdminOnCairn(t *testing.T) {
	t.Parallel()
	c := startCairn(t)
	other := startCairn(t)
	c.ok(t, 30*time.Second, "swarm", "connect", other.swarm[0])
	cli := newKuboCLI(t, c)
	path, _ := randomFile(t, 2<<20+3)
	root := lastLine(c.ok(t, time.Minute, "add", "-q", path))

	t.Run("config", func(t *testing.T) {
		if out := cli.ok(t, "config", "config", "discovery.mdns"); out != "false\n" {
			t.Fatalf("ipfs config discovery.mdns printed %q", out)
		}
		cli.ok(t, "config", "config", "--json", "connections.low", "7")
		if out := cli.ok(t, "config", "config", "connections.low"); out != "7\n" {
			t.Fatalf("after ipfs config --json connections.low 7: %q", out)
		}
		if _, errOut, code := cli.run(t, "config", "connections.low", "many"); code == 0 || !strings.Contains(errOut, "connections.low") {
			t.Fatalf("a bad value: exit %d, %q", code, errOut)
		}
		var all map[string]map[string]any
		if err := json.Unmarshal([]byte(cli.ok(t, "config/show", "config", "show")), &all); err != nil {
			t.Fatal(err)
		}
		if _, ok := all["shell"]["access_token"]; ok || all["connections"]["low"] != 7.0 {
			t.Fatalf("ipfs config show: connections %v, shell %v", all["connections"], all["shell"])
		}
	})

	t.Run("bootstrap", func(t *testing.T) {
		if out := cli.ok(t, "bootstrap/add", "bootstrap", "add", other.swarm[0]); !strings.Contains(out, other.swarm[0]) {
			t.Fatalf("ipfs bootstrap add printed %q", out)
		}
		if out := cli.ok(t, "bootstrap/list", "bootstrap", "list"); strings.TrimSpace(out) != other.swarm[0] {
			t.Fatalf("ipfs bootstrap list printed %q", out)
		}
		cli.ok(t, "bootstrap/rm/all", "bootstrap", "rm", "--all")
		if out := cli.ok(t, "bootstrap/list", "bootstrap", "list"); strings.TrimSpace(out) != "" {
			t.Fatalf("after rm --all, ipfs bootstrap list printed %q", out)
		}
	})

	t.Run("dag_stat_get", func(t *testing.T) {
		out := cli.ok(t, "dag/stat", "dag", "stat", "--progress=false", root)
		if !strings.Contains(out, root) || !strings.Contains(out, "Unique Blocks: 4") {
			t.Fatalf("ipfs dag stat printed %q", out)
		}
		var node struct{ Links []any }
		if err := json.Unmarshal([]byte(cli.ok(t, "dag/get", "dag", "get", root)), &node); err != nil || len(node.Links) != 3 {
			t.Fatalf("ipfs dag get: %d links, %v", len(node.Links), err)
		}
	})

	t.Run("pin_verify", func(t *testing.T) {
		if out := cli.ok(t, "pin/verify", "pin", "verify", "--verbose"); !strings.Contains(out, root+" ok") {
			t.Fatalf("ipfs pin verify --verbose printed %q", out)
		}
	})

	t.Run("routing_findpeer", func(t *testing.T) {
		if out := cli.ok(t, "routing/findpeer", "routing", "findpeer", other.id); !strings.Contains(out, "/ip4/127.0.0.1/tcp/") {
			t.Fatalf("ipfs routing findpeer printed %q", out)
		}
	})

	t.Run("swarm_disconnect", func(t *testing.T) {
		out := cli.ok(t, "swarm/disconnect", "swarm", "disconnect", other.swarm[0])
		if want := "disconnect " + other.id + " success"; strings.TrimSpace(out) != want {
			t.Fatalf("ipfs swarm disconnect printed %q, want %q", out, want)
		}
	})

	t.Run("block_rm", func(t *testing.T) {
		blk := filepath.Join(t.TempDir(), "blk")
		if err := os.WriteFile(blk, randomBytes(100), 0o644); err != nil {
			t.Fatal(err)
		}
		key := strings.TrimSpace(cli.ok(t, "block/put", "block", "put", blk))
		if out := cli.ok(t, "block/rm", "block", "rm", key); strings.TrimSpace(out) != "removed "+key {
			t.Fatalf("ipfs block rm printed %q", out)
		}
		if _, _, code := cli.run(t, "block", "rm", root); code == 0 {
			t.Fatal("ipfs block rm removed a pinned root")
		}
	})

	t.Run("shutdown", func(t *testing.T) {
		cli.ok(t, "shutdown", "shutdown")
		select {
		case <-c.proc.Exited():
		case <-time.After(30 * time.Second):
			t.Fatal("the daemon still runs 30s after ipfs shutdown")
		}
	})
}
