package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// cairnBin is the binary built once for the end-to-end tests.
var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	out, err := exec.Command("go", "build", "-o", cairnBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build cairn: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testRepoConfig keeps test daemons on loopback, on free ports, with no
// multicast on the machine's network.
const testRepoConfig = `swarm:
  listen: [/ip4/127.0.0.1/tcp/0, /ip4/127.0.0.1/udp/0/quic-v1]
discovery:
  mdns: false
  interval: 200ms
  max_backoff: 1s
reachability:
  port_mapping: false
shell:
  address: 127.0.0.1:0
gateway:
  address: 127.0.0.1:0
`

// daemon is one `cairn daemon` process.
type daemon struct {
	repo  string
	proc  *daemonproc.Proc
	id    string
	swarm []string // full multiaddrs with /p2p/
	shell string
}

// newRepo initialises a repo with the test config and returns its path.
func newRepo(t *testing.T) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	cairnOK(t, "init", "--repo", repo)
	if err := os.WriteFile(filepath.Join(repo, "config.yaml"), []byte(testRepoConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

// startDaemon runs a daemon on repo and waits until it says it is ready.
func startDaemon(t *testing.T, repo string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(cairnBin, append([]string{"daemon", "--repo", repo}, args...)...)
	var out daemonproc.Cairn
	p, err := daemonproc.Start("daemon", cmd, out.Line)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{repo: repo, proc: p}
	t.Cleanup(func() { d.stop(t) })
	if err := p.WaitReady(t.Context(), 60*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	d.id, d.swarm, d.shell = out.ID, out.Swarm, out.Shell
	return d
}

// stop sends SIGTERM and waits for a clean exit. A daemon that has
// already exited (stopped before, or killed by the test) is left alone.
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	select {
	case <-d.proc.Exited():
		return
	default:
	}
	if err := d.proc.Stop(20 * time.Second); err != nil {
		t.Errorf("daemon on %s: %v", d.repo, err)
	}
}

// cairn runs a client command and returns stdout, stderr and the exit code.
func cairn(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(cairnBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func cairnOK(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := cairn(t, args...)
	if code != 0 {
		t.Fatalf("cairn %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func sha(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

// Three daemons in a bootstrap chain: a 20 MiB file added on A is fetched
// through C's shell; then A restarts with the same identity and content.
func TestThreeDaemonsShareAFile(t *testing.T) {
	a := startDaemon(t, newRepo(t))
	b := startDaemon(t, newRepo(t), "--bootstrap", a.swarm[0])
	c := startDaemon(t, newRepo(t), "--bootstrap", b.swarm[0])

	data := make([]byte, 20<<20)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "random.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	root := strings.TrimSpace(cairnOK(t, "add", "--repo", a.repo, "-q", file))
	if root == "" {
		t.Fatal("add printed no CID")
	}

	start := time.Now()
	got := cairnOK(t, "cat", "--repo", c.repo, "--timeout", "90s", root)
	t.Logf("fetched 20 MiB A→C through the DHT in %s", time.Since(start))
	if sha([]byte(got)) != sha(data) {
		t.Fatalf("C returned %d bytes whose SHA-256 differs from the file added on A", len(got))
	}

	out := filepath.Join(t.TempDir(), "out.bin")
	cairnOK(t, "get", "--repo", b.repo, "--timeout", "90s", "-o", out, root)
	if fetched, err := os.ReadFile(out); err != nil || sha(fetched) != sha(data) {
		t.Fatalf("get on B: %v, or bytes differ", err)
	}

	idBefore := a.id
	a.stop(t)
	if _, err := os.Stat(filepath.Join(a.repo, "api")); !os.IsNotExist(err) {
		t.Fatalf("api file still present after a clean exit: %v", err)
	}
	a2 := startDaemon(t, a.repo)
	if a2.id != idBefore {
		t.Fatalf("peer id changed across restart: %s → %s", idBefore, a2.id)
	}
	if idOut := cairnOK(t, "id", "--repo", a.repo); !strings.Contains(idOut, idBefore) {
		t.Fatalf("cairn id after restart does not show %s:\n%s", idBefore, idOut)
	}
	again := cairnOK(t, "cat", "--repo", a.repo, "--timeout", "10s", root)
	if sha([]byte(again)) != sha(data) {
		t.Fatal("content did not survive the restart")
	}
}

// absentCID is a well-formed CID of bytes no test ever adds.
const absentCID = "bafkreidewxu3qwygpq7zloen62fncq66itzxm6buhf46dpcask5own5hbu"

// Bad input gets one clear line on stderr, a non-zero exit, and leaves the
// repo as it was.
func TestBadInputFailsClearly(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	before := listTree(t, d.repo)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"malformed CID", []string{"cat", "--repo", d.repo, "not-a-cid"}, "not-a-cid"},
		{"malformed multiaddr", []string{"connect", "--repo", d.repo, "/ip4/300.1.1.1/tcp/1"}, "/ip4/300.1.1.1/tcp/1"},
		{"missing file", []string{"add", "--repo", d.repo, filepath.Join(t.TempDir(), "nope.txt")}, "nope.txt"},
		{"no daemon", []string{"id", "--repo", t.TempDir()}, "daemon"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		// Content nobody has: the fetch gives up at the deadline and says why.
		{"no provider in time", []string{"cat", "--repo", d.repo, "--timeout", "2s", absentCID}, "not found within 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := cairn(t, tt.args...)
			checkOneLineError(t, stderr, code, tt.want)
		})
	}
	if after := listTree(t, d.repo); !slices.Equal(before, after) {
		t.Fatalf("bad requests changed the repo:\nbefore %v\nafter  %v", before, after)
	}
}

func TestBrokenConfigStopsStartup(t *testing.T) {
	tests := []struct {
		name, config, want string
	}{
		{"unknown key", testRepoConfig + "bogus: 1\n", `"bogus"`},
		{"bad multiaddr", "swarm:\n  listen: [/ip4/127.0.0.1/tcp/99999]\n", "swarm.listen[0]"},
		{"port out of range", "shell:\n  address: 127.0.0.1:70000\n", "shell.address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := newRepo(t)
			if err := os.WriteFile(filepath.Join(repo, "config.yaml"), []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
			before := listTree(t, repo)
			_, stderr, code := cairn(t, "daemon", "--repo", repo)
			checkOneLineError(t, stderr, code, tt.want)
			if after := listTree(t, repo); !slices.Equal(before, after) {
				t.Fatalf("a refused start changed the repo:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
	t.Run("bad flag multiaddr", func(t *testing.T) {
		_, stderr, code := cairn(t, "daemon", "--repo", newRepo(t), "--bootstrap", "/ip4/127.0.0.1/tcp/1")
		checkOneLineError(t, stderr, code, "discovery.bootstrap[0]")
	})
}

func checkOneLineError(t *testing.T, stderr string, code int, want string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit 0, want failure; stderr %q", stderr)
	}
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "cairn: ") {
		t.Fatalf("want one line starting with 'cairn: ', got %q", stderr)
	}
	if !strings.Contains(lines[0], want) {
		t.Fatalf("error %q does not mention %q", lines[0], want)
	}
}

// listTree names every file under dir with its size and modification
// time, to show that nothing was written.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %d %d", strings.TrimPrefix(p, dir), fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
