package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// kuboEnv turns Kubo's telemetry plugin off; it would otherwise phone home.
var kuboEnv = []string{"IPFS_TELEMETRY=off"}

// kuboBestAdd is Kubo's import at its best for transfer: 1 MiB raw leaves
// under CIDv1 (the anchors' 140 MB/s fetch).
var kuboBestAdd = []string{"--raw-leaves", "--cid-version=1", "--chunker=size-1048576"}

// kuboNode is a running `ipfs daemon`.
type kuboNode struct {
	*proc
	bin, path string // binary and IPFS_PATH
	api, gw   string // host:port
	swarm     string
}

var _ node = (*kuboNode)(nil)

func (k *kuboNode) rpcURL() string     { return "http://" + k.api }
func (k *kuboNode) gatewayURL() string { return "http://" + k.gw }
func (k *kuboNode) swarmAddr() string  { return k.swarm }

// startKubo initialises a repo as ANCHORS.md measured Kubo
// (`--profile=test`, Routing.Type=dht, default flatfs + leveldb), pinned to
// loopback TCP on port 0 with no bootstrap, mDNS, AutoConf or AutoTLS, and
// runs `ipfs daemon` on it.
func startKubo(ctx context.Context, bin, dir string) (*kuboNode, error) {
	path, err := os.MkdirTemp(dir, "kubo-repo-")
	if err != nil {
		return nil, err
	}
	env := append([]string{"IPFS_PATH=" + path}, kuboEnv...)
	if _, err := runOut(ctx, time.Minute, env, bin, "init", "--profile=test"); err != nil {
		os.RemoveAll(path)
		return nil, err
	}
	if err := editKuboConfig(filepath.Join(path, "config")); err != nil {
		os.RemoveAll(path)
		return nil, err
	}
	k := &kuboNode{bin: bin, path: path}
	cmd := exec.Command(bin, "daemon")
	cmd.Env = append(os.Environ(), env...)
	var out daemonproc.Kubo
	p, err := startProc(ctx, "ipfs daemon", cmd, 90*time.Second, out.Line)
	if err != nil {
		os.RemoveAll(path)
		return nil, err
	}
	k.api, _ = hostPort(out.API)
	k.gw, _ = hostPort(out.Gateway)
	k.proc = p
	if err := k.findSwarm(ctx); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// Close stops the daemon and deletes its repo, as cairnNode's does.
func (k *kuboNode) Close() error {
	err := k.proc.Close()
	return errors.Join(err, os.RemoveAll(k.path))
}

// findSwarm learns the daemon's loopback TCP address from /api/v0/id,
// since Kubo does not print it with the peer ID attached.
func (k *kuboNode) findSwarm(ctx context.Context) error {
	if k.api == "" || k.gw == "" {
		return fmt.Errorf("ipfs daemon printed no RPC or gateway address")
	}
	var id struct{ Addresses []string }
	if err := rpcPost(ctx, k.rpcURL()+"/api/v0/id", &id); err != nil {
		return err
	}
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			k.swarm = a
			return nil
		}
	}
	return fmt.Errorf("ipfs id lists no loopback TCP address: %v", id.Addresses)
}

// editKuboConfig rewrites the config in one read and one write rather than
// an `ipfs config` process per key.
func editKuboConfig(file string) error {
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("kubo config: %w", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("kubo config: %w", err)
	}
	daemonproc.KuboLocal(cfg)
	if raw, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		return fmt.Errorf("kubo config: %w", err)
	}
	return os.WriteFile(file, raw, 0o600)
}

// add imports file through the daemon with Kubo's CLI and extra flags.
func (k *kuboNode) add(ctx context.Context, file string, flags ...string) (string, error) {
	args := append(append([]string{"add", "-Q"}, flags...), file)
	out, err := runOut(ctx, 30*time.Minute, k.env(), k.bin, args...)
	if err != nil {
		return "", err
	}
	return lastLine(out), nil
}

func (k *kuboNode) env() []string { return append([]string{"IPFS_PATH=" + k.path}, kuboEnv...) }

// catCommand is `ipfs cat CID` on this daemon, for the caller to stream.
func (k *kuboNode) catCommand(ctx context.Context, cid string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.bin, "cat", cid)
	cmd.Env = append(os.Environ(), k.env()...)
	return cmd
}
