package interop

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// cairnConfig keeps a test daemon on loopback and free ports, with no
// multicast, and puts its DHT on Kubo's /ipfs protocols so that Cairn and
// Kubo form one DHT.
const cairnConfig = `swarm:
  listen: [/ip4/127.0.0.1/tcp/0]
discovery:
  mdns: false
  interval: 200ms
  max_backoff: 1s
dht:
  protocol_prefix: /ipfs
  loopback_on_lan: true
shell:
  address: 127.0.0.1:0
gateway:
  address: 127.0.0.1:0
`

// cairnNode is one `cairn daemon` process.
type cairnNode struct {
	repo  string
	proc  *daemonproc.Proc
	id    string
	swarm []string // multiaddrs ending in /p2p/<id>
	api   string   // the shell's multiaddr, /ip4/127.0.0.1/tcp/PORT
	gw    string   // the gateway's multiaddr, /ip4/127.0.0.1/tcp/PORT
}

// startCairn initialises a repo with cairnConfig and runs a daemon on it,
// returning once the daemon says it is ready. The daemon is stopped when
// the test ends.
func startCairn(t *testing.T, args ...string) *cairnNode {
	t.Helper()
	return startCairnConfig(t, cairnConfig, args...)
}

// startCairnConfig is startCairn with config as the repo's config.yaml.
func startCairnConfig(t *testing.T, config string, args ...string) *cairnNode {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "cairn")
	if out, err := exec.Command(cairnBin, "init", "--repo", repo).CombinedOutput(); err != nil {
		t.Fatalf("cairn init: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(repo, "config.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cairnBin, append([]string{"daemon", "--repo", repo}, args...)...)
	var out daemonproc.Cairn
	p, err := daemonproc.Start("cairn daemon", cmd, out.Line)
	if err != nil {
		t.Fatal(err)
	}
	n := &cairnNode{repo: repo, proc: p}
	t.Cleanup(func() { n.stop(t) })
	if err := p.WaitReady(t.Context(), 60*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	n.id, n.swarm, n.api, n.gw = out.ID, out.Swarm, out.Shell, out.Gateway
	return n
}

// stop sends SIGTERM and waits for a clean exit; a daemon that has
// already exited is left alone.
func (n *cairnNode) stop(t *testing.T) {
	t.Helper()
	if !n.alive() {
		return
	}
	if err := n.proc.Stop(20 * time.Second); err != nil {
		t.Errorf("cairn daemon on %s: %v", n.repo, err)
	}
}

// alive reports whether the daemon is still running.
func (n *cairnNode) alive() bool {
	select {
	case <-n.proc.Exited():
		return false
	default:
		return true
	}
}

// httpBase is the shell's http://host:port.
func (n *cairnNode) httpBase(t *testing.T) string {
	t.Helper()
	return "http://" + hostPort(t, n.api)
}

// gatewayURL is the gateway's http://host:port.
func (n *cairnNode) gatewayURL(t *testing.T) string {
	t.Helper()
	return "http://" + hostPort(t, n.gw)
}

// run runs a cairn client command against this daemon, bounded by
// timeout, and returns stdout, stderr and the exit code.
func (n *cairnNode) run(t *testing.T, timeout time.Duration, args ...string) (string, string, int) {
	t.Helper()
	full := append([]string{args[0], "--repo", n.repo}, args[1:]...)
	return runCmd(t, timeout, nil, cairnBin, full...)
}

// ok is run for a command that must succeed.
func (n *cairnNode) ok(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, errOut, code := n.run(t, timeout, args...)
	if code != 0 {
		t.Fatalf("cairn %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut))
	}
	return out
}

// runCmd runs bin with args and env added to the environment, killing it
// after timeout. A command that cannot start fails the test; a timeout is
// reported as exit code -1 with the reason on stderr.
func runCmd(t *testing.T, timeout time.Duration, env []string, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = daemonproc.DieWithParent()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return stdout.String(), stderr.String() + "\n(killed after " + timeout.String() + ")", -1
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return stdout.String(), stderr.String(), code
}

// hostPort turns /ip4/H/tcp/P into H:P.
func hostPort(t *testing.T, maddr string) string {
	t.Helper()
	parts := strings.Split(strings.TrimPrefix(maddr, "/"), "/")
	if len(parts) < 4 || parts[0] != "ip4" || parts[2] != "tcp" {
		t.Fatalf("cannot turn %q into host:port", maddr)
	}
	return parts[1] + ":" + parts[3]
}
