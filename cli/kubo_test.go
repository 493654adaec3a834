package cli

import (
	"encoding/json"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// adminShell serves a shell over a fake node with every optional command
// and returns it with its API multiaddr.
func adminShell(t *testing.T) (*shelltest.Admin, string) {
	t.Helper()
	a := shelltest.NewAdmin()
	h, err := shell.New(shell.Config{}, a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return a, "/ip4/" + host + "/tcp/" + port
}

// Kubo's command lines, with ipfs spelled cairn, parse and do what they do
// in Kubo: same flags (grouped short ones too), same output.
func TestKuboCommandLines(t *testing.T) {
	a, api := adminShell(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("hello from kubo's habits"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"a.txt", "sub/b.txt", ".hidden"} {
		os.WriteFile(filepath.Join(tree, f), []byte(f), 0o644)
	}
	fileCID := shelltest.RawCid([]byte("hello from kubo's habits")).String()
	blk := a.AddBlock([]byte("a block")).String()
	p1 := shelltest.PeerID(1)
	a.PeerList = []shell.PeerInfo{{ID: p1, Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: "outbound", Latency: 2 * time.Millisecond}}
	a.Providers[shelltest.RawCid([]byte("a block"))] = []libp2ppeer.AddrInfo{{ID: p1}}
	a.Known[p1] = shelltest.AddrInfo(p1, "/ip4/10.0.0.1/tcp/4001")
	p1Addr := "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String()

	tests := []struct {
		line  string // as typed for Kubo, after "ipfs"
		want  []string
		not   string
		lines int // lines of output, when it matters
	}{
		{"--api " + api + " add " + file, []string{"added " + fileCID + " notes.txt\n"}, "", 0},
		{"add --api=" + api + " -q " + file, []string{fileCID + "\n"}, "added", 0},
		{"add -rQ --api " + api + " " + tree, []string{"\n"}, "added", 1},
		{"add -rq --api " + api + " " + tree, []string{"\n"}, "added", 4},
		{"add -rH --api " + api + " " + tree, []string{"tree/.hidden\n", "tree/sub/b.txt\n"}, "", 5},
		{"add --api " + api + " --enc=json -Q " + file, []string{`{"Name":"notes.txt","Hash":"` + fileCID + `","Size":`}, "", 0},
		{"--api " + api + " cat --offset 6 -l 4 " + fileCID, []string{"from"}, "hello", 0},
		{"--timeout=5s --api " + api + " cat /ipfs/" + fileCID, []string{"hello from kubo's habits"}, "", 0},
		{"--api " + api + " swarm peers -v", []string{p1Addr + " 2ms outbound\n"}, "", 0},
		{"--api " + api + " swarm peers --enc=json", []string{`"Peer":"` + p1.String() + `"`}, "", 0},
		{"--api " + api + " swarm connect " + p1Addr, []string{"connect " + p1.String() + " success\n"}, "", 0},
		{"--api " + api + " swarm disconnect " + p1Addr, []string{"disconnect " + p1.String() + " success\n"}, "", 0},
		{"--api " + api + " routing findprovs --num-providers=1 " + blk, []string{p1.String() + "\n"}, "", 0},
		{"--api " + api + " routing findpeer " + p1.String(), []string{"/ip4/10.0.0.1/tcp/4001\n"}, "", 0},
		{"--api " + api + " routing provide -v " + blk, []string{"provided " + blk}, "", 0},
		{"--api " + api + " block stat " + blk, []string{"Key: " + blk + "\nSize: 7\n"}, "", 0},
		{"--api " + api + " block get " + blk, []string{"a block"}, "", 0},
		{"--api " + api + " block put --cid-codec=raw " + file, []string{fileCID + "\n"}, "", 0},
		{"--api " + api + " pin add --recursive=false " + blk, []string{"pinned " + blk + " directly\n"}, "", 0},
		{"--api " + api + " pin ls --type=direct -q", []string{blk + "\n"}, "direct", 0},
		{"--api " + api + " pin ls --enc=json -t direct", []string{`"Cid":"` + blk + `"`, `"Type":"direct"`}, "", 0},
		{"--api " + api + " pin rm " + blk, []string{"unpinned " + blk + "\n"}, "", 0},
		{"--api " + api + " pin verify --verbose", []string{""}, "broken", 0},
		{"--api " + api + " repo stat --enc=json", []string{`"NumObjects":`}, "", 0},
		{"--api " + api + " dag get " + blk, []string{""}, "", 0},
		{"--api " + api + " bootstrap add " + p1Addr, []string{"added " + p1Addr + "\n"}, "", 0},
		{"--api " + api + " bootstrap list", []string{p1Addr + "\n"}, "", 0},
		{"--api " + api + " bootstrap rm --all", []string{"removed " + p1Addr + "\n"}, "", 0},
		{"--api " + api + " config discovery.mdns", []string{"true\n"}, "", 0},
		{"--api " + api + " config --bool discovery.mdns false", []string{""}, "", 0},
		{"--api " + api + " config show", []string{`"mdns": false`}, "access_token", 0},
		{"--api " + api + " block rm " + blk, []string{"removed " + blk + "\n"}, "", 0},
		{"--api " + api + " version", []string{"cairn version "}, "", 0},
		{"--api " + api + " id --enc=json", []string{`"ID": "` + a.Self.ID.String() + `"`}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			out, errOut, code := cliExit(t, strings.Fields(tt.line)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %q lacks %q", out, w)
				}
			}
			if tt.not != "" && strings.Contains(out, tt.not) {
				t.Errorf("output %q has %q", out, tt.not)
			}
			if n := strings.Count(out, "\n"); tt.lines > 0 && n != tt.lines {
				t.Errorf("output %q has %d lines, want %d", out, n, tt.lines)
			}
		})
	}
}

// dag stat prints Kubo's table and summary; pin verify fails on a broken
// pin; block rm fails when a block is kept; shutdown stops the daemon.
func TestCLINewCommands(t *testing.T) {
	a, api := adminShell(t)
	blk := a.AddBlock([]byte("stat me"))
	out, errOut, code := cliExit(t, "dag", "stat", "--api", api, blk.String())
	if code != 0 || !strings.Contains(out, blk.String()+"\t1              \t7\n") || !strings.Contains(out, "Unique Blocks: 1\n") {
		t.Fatalf("dag stat: exit %d, %q, %q", code, out, errOut)
	}
	var st struct{ UniqueBlocks, TotalSize int }
	out, _, _ = cliExit(t, "dag", "stat", "--api", api, "--enc=json", blk.String())
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.UniqueBlocks != 1 || st.TotalSize != 7 {
		t.Fatalf("dag stat --enc=json: %q, %v", out, err)
	}

	a.Checks = []shell.PinCheck{{Cid: blk, Bad: []shell.BadBlock{{Cid: blk, Err: "hash mismatch"}}}}
	out, errOut, code = cliExit(t, "pin", "verify", "--api", api)
	if code != 1 || out != blk.String()+" broken\n  "+blk.String()+": hash mismatch\n" || !strings.Contains(errOut, "1 broken pins") {
		t.Fatalf("pin verify: exit %d, %q, %q", code, out, errOut)
	}
	if out, _, _ := cliExit(t, "pin", "verify", "-q", "--api", api); out != blk.String()+"\n" {
		t.Fatalf("pin verify -q: %q", out)
	}

	if err := a.Pin(t.Context(), blk, false); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = cliExit(t, "block", "rm", "--api", api, blk.String())
	if code != 1 || !strings.Contains(out, "cannot remove "+blk.String()+": pinned: direct") || !strings.Contains(errOut, "1 of 1 blocks not removed") {
		t.Fatalf("block rm of a pinned block: exit %d, %q, %q", code, out, errOut)
	}

	if _, errOut, code := cliExit(t, "shutdown", "--api", api); code != 0 {
		t.Fatalf("shutdown: exit %d, %s", code, errOut)
	}
	select {
	case <-a.Stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not reach the node")
	}
}

// config commands edit the repo's file when no --api is given, daemon or
// not, and say a running daemon needs a restart.
func TestCLIConfigLocal(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if _, errOut, code := cliExit(t, "init", "--repo", repo); code != 0 {
		t.Fatal(errOut)
	}
	if _, errOut, code := cliExit(t, "config", "set", "--repo", repo, "connections.low", "7"); code != 0 || errOut != "" {
		t.Fatalf("set: exit %d, %q", code, errOut)
	}
	if out, _, _ := cliExit(t, "config", "get", "connections.low", "--repo", repo); out != "7\n" {
		t.Fatalf("get: %q", out)
	}
	if out, _, _ := cliExit(t, "config", "connections", "--repo", repo); !strings.Contains(out, `"low": 7`) {
		t.Fatalf("config connections: %q", out)
	}
	if _, errOut, code := cliExit(t, "config", "connections.low", "lots", "--repo", repo); code != 1 || !strings.Contains(errOut, "connections.low") {
		t.Fatalf("a bad value: exit %d, %q", code, errOut)
	}
	// With an api file, a daemon is taken to run: the change needs a restart.
	if err := os.WriteFile(filepath.Join(repo, "api"), []byte("/ip4/127.0.0.1/tcp/1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := cliExit(t, "config", "set", "discovery.mdns", "false", "--repo", repo); code != 0 || !strings.Contains(errOut, "restart the daemon") {
		t.Fatalf("set with a daemon: exit %d, %q", code, errOut)
	}
	out, _, _ := cliExit(t, "bootstrap", "add", "--repo", repo, "/ip4/192.0.2.1/tcp/4201/p2p/"+shelltest.PeerID(1).String())
	if !strings.HasPrefix(out, "added /ip4/192.0.2.1") {
		t.Fatalf("bootstrap add: %q", out)
	}
	if out, _, _ := cliExit(t, "config", "profile", "apply", "--repo", repo, "--dry-run", "lowpower"); !strings.Contains(out, `"mode": "client"`) {
		t.Fatalf("profile apply --dry-run: %q", out)
	}
	if out, _, _ := cliExit(t, "config", "get", "dht.mode", "--repo", repo); out != "auto\n" {
		t.Fatalf("a dry run wrote: dht.mode %q", out)
	}
	if out, _, code := cliExit(t, "config", "profile", "apply", "--repo", repo, "lowpower"); code != 0 || out != "applied profile lowpower\n" {
		t.Fatalf("profile apply: %q", out)
	}
	if out, _, _ := cliExit(t, "config", "get", "dht.mode", "--repo", repo); out != "client\n" {
		t.Fatalf("after lowpower: dht.mode %q", out)
	}
}
