package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// cairnConfig keeps bench daemons on loopback TCP, on free ports, with no
// multicast: the wire limit is measured over TCP, so the daemons use TCP
// alone rather than racing QUIC (which carries less than half of TCP here).
const cairnConfig = `swarm:
  listen: [/ip4/127.0.0.1/tcp/0]
discovery:
  mdns: false
reachability:
  port_mapping: false
shell:
  address: 127.0.0.1:0
gateway:
  address: 127.0.0.1:0
`

// cairnNode is a running `cairn daemon`.
type cairnNode struct {
	*proc
	bin, repo string
	root      string // temp dir holding repo, removed by Close
	shell     string // host:port
	gateway   string // host:port
	swarm     string
}

var _ node = (*cairnNode)(nil)

func (c *cairnNode) rpcURL() string     { return "http://" + c.shell }
func (c *cairnNode) gatewayURL() string { return "http://" + c.gateway }
func (c *cairnNode) swarmAddr() string  { return c.swarm }

// startCairn initialises a fresh repo under dir and runs a daemon on it,
// with env added to the daemon's environment.
func startCairn(ctx context.Context, bin, dir string, env []string) (*cairnNode, error) {
	root, err := os.MkdirTemp(dir, "cairn-repo-")
	if err != nil {
		return nil, err
	}
	repo := filepath.Join(root, "repo")
	if _, err := runOut(ctx, time.Minute, nil, bin, "init", "--repo", repo); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(repo, "config.yaml"), []byte(cairnConfig), 0o644); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("cairn config: %w", err)
	}
	c := &cairnNode{bin: bin, repo: repo, root: root}
	cmd := exec.Command(bin, "daemon", "--repo", repo)
	cmd.Env = append(os.Environ(), env...)
	var out daemonproc.Cairn
	p, err := startProc(ctx, "cairn daemon", cmd, time.Minute, out.Line)
	if err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	for _, a := range out.Swarm {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			c.swarm = a
		}
	}
	// A multiaddr (/ip4/…/tcp/…) in this version; host:port is taken as
	// is.
	c.shell = out.Shell
	if hp, err := hostPort(out.Shell); err == nil {
		c.shell = hp
	}
	// A cairn that prints no gateway serves it on the shell's port.
	c.gateway = c.shell
	if hp, err := hostPort(out.Gateway); err == nil {
		c.gateway = hp
	}
	c.proc = p
	if c.swarm == "" || c.shell == "" {
		c.Close()
		return nil, fmt.Errorf("cairn daemon printed no loopback TCP or shell address")
	}
	return c, nil
}

// Close stops the daemon and deletes its repo: a 1 GiB run makes a dozen
// repos of SIZE each, which would otherwise fill the temp disk.
func (c *cairnNode) Close() error {
	err := c.proc.Close()
	return errors.Join(err, os.RemoveAll(c.root))
}

// add imports file with the CLI, as a user would, and returns its CID.
func (c *cairnNode) add(ctx context.Context, file string) (string, error) {
	out, err := runOut(ctx, 30*time.Minute, nil, c.bin, "add", "--repo", c.repo, "-Q", file)
	if err != nil {
		return "", err
	}
	return lastLine(out), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
