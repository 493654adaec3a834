package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// daemon is one cairn peer: its repo and ports stay, its process comes
// and goes.
type daemon struct {
	repo  string
	swarm int
	shell int
	id    string
	proc  *daemonproc.Proc // nil while down
	down  time.Time        // when it was killed
}

type network struct {
	logDir  string // where daemons' logs go; "" keeps none
	cairn   string
	daemons []*daemon
	client  *http.Client
}

// file is a pinned file and what its bytes hash to.
type file struct {
	cid    string
	sha256 [32]byte
}

func newNetwork(ctx context.Context, cfg config, tmp string) (*network, error) {
	n := &network{cairn: cfg.cairn, client: &http.Client{Timeout: 2 * time.Minute}}
	if cfg.logLevel != "" {
		n.logDir = filepath.Join(cfg.out, "logs")
		if err := os.MkdirAll(n.logDir, 0o755); err != nil {
			return nil, err
		}
	}
	for i := range cfg.peers {
		d, err := n.initRepo(ctx, filepath.Join(tmp, fmt.Sprintf("p%02d", i)), i == 0, cfg)
		if err != nil {
			return nil, err
		}
		n.daemons = append(n.daemons, d)
	}
	key, err := os.ReadFile(filepath.Join(n.daemons[0].repo, "swarm.key"))
	if err != nil {
		return nil, err
	}
	for _, d := range n.daemons[1:] {
		if err := os.WriteFile(filepath.Join(d.repo, "swarm.key"), key, 0o600); err != nil {
			return nil, err
		}
	}
	for _, d := range n.daemons {
		if err := n.start(ctx, d); err != nil {
			n.close()
			return nil, err
		}
	}
	return n, nil
}

// initRepo makes a repo whose replication checks run every interval,
// without fsync (the soak is about peers, not disks), on fixed loopback
// ports, so that a restarted peer is where the others remember it.
func (n *network) initRepo(ctx context.Context, dir string, private bool, cfg config) (*daemon, error) {
	args := []string{"init", "--repo", dir}
	if private {
		args = append(args, "--private")
	}
	out, err := exec.CommandContext(ctx, n.cairn, args...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("init %s: %w: %s", dir, err, out)
	}
	d := &daemon{repo: dir}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "peer id: "); ok {
			d.id = v
		}
	}
	path := filepath.Join(dir, "config.yaml")
	conf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	level := "warn"
	if cfg.logLevel != "" {
		level = cfg.logLevel
	}
	s := strings.NewReplacer(
		"level: warn", "level: "+level,
		"check_interval: 1m", "check_interval: "+cfg.interval,
		"max_backoff: 10m", "max_backoff: 15s",
		"request_timeout: 20s", "request_timeout: 5s",
		"sync: true", "sync: false",
	).Replace(string(conf))
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return nil, err
	}
	if d.swarm, err = freePort(); err != nil {
		return nil, err
	}
	if d.shell, err = freePort(); err != nil {
		return nil, err
	}
	return d, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs d, on new ports if another process took its own since (the
// machine is shared).
func (n *network) start(ctx context.Context, d *daemon) error {
	err := n.startOnce(ctx, d)
	for try := 0; err != nil && strings.Contains(err.Error(), "address already in use") && try < 3; try++ {
		if d.swarm, err = freePort(); err != nil {
			return err
		}
		if d.shell, err = freePort(); err != nil {
			return err
		}
		err = n.startOnce(ctx, d)
	}
	return err
}

// startOnce runs d, bootstrapping from every other peer.
func (n *network) startOnce(ctx context.Context, d *daemon) error {
	args := []string{"daemon", "--repo", d.repo, "--no-mdns",
		"--listen", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", d.swarm),
		"--shell", fmt.Sprintf("127.0.0.1:%d", d.shell), "--gateway", "127.0.0.1:0"}
	for _, o := range n.daemons {
		if o != d {
			args = append(args, "--bootstrap", fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", o.swarm, o.id))
		}
	}
	cmd := exec.Command(n.cairn, args...)
	cmd.SysProcAttr = daemonproc.DieWithParent()
	var c daemonproc.Cairn
	p, err := daemonproc.Start(filepath.Base(d.repo), cmd, c.Line)
	if err != nil {
		return err
	}
	if err := p.WaitReady(ctx, time.Minute); err != nil {
		p.Stop(10 * time.Second)
		return fmt.Errorf("start %s: %w: %s", d.repo, err, p.Stderr())
	}
	d.proc = p
	return nil
}

// kill ends d at once, as a crash would.
func (n *network) kill(d *daemon) {
	d.proc.Process().Kill()
	<-d.proc.Exited()
	n.keepLog(d)
	d.proc, d.down = nil, time.Now()
}

// keepLog appends what d's process wrote on stderr to daemon.log in its
// repo, when -log-level asked for logs.
func (n *network) keepLog(d *daemon) {
	if n.logDir == "" {
		return
	}
	f, err := os.OpenFile(filepath.Join(n.logDir, filepath.Base(d.repo)+".log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Printf("soak: %v", err)
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "--- %s\n%s", d.id, d.proc.Stderr())
}

func (n *network) close() {
	var wg sync.WaitGroup
	for _, d := range n.daemons {
		if d.proc != nil {
			wg.Go(func() { d.proc.Stop(30 * time.Second); n.keepLog(d) })
		}
	}
	wg.Wait()
}

func (n *network) up() []*daemon {
	var out []*daemon
	for _, d := range n.daemons {
		if d.proc != nil {
			out = append(out, d)
		}
	}
	return out
}

// call posts to d's shell and decodes the JSON answer into v (if not nil).
func (n *network) call(ctx context.Context, d *daemon, cmd string, body io.Reader, v any) error {
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v0/%s", d.shell, cmd)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Content-Disposition", `attachment; filename="soak"`)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s: %s", cmd, resp.Status, bytes.TrimSpace(msg))
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// pinFiles adds each file on a different peer and pins it with the
// replication factor, once that peer sees enough others.
func (n *network) pinFiles(ctx context.Context, cfg config) ([]file, error) {
	var out []file
	for i := range cfg.files {
		d := n.daemons[i%len(n.daemons)]
		if err := n.waitPeers(ctx, d, cfg.peers/2); err != nil {
			return nil, err
		}
		data := make([]byte, cfg.size)
		rand.Read(data)
		var added struct{ Hash string }
		if err := n.call(ctx, d, "add", bytes.NewReader(data), &added); err != nil {
			return nil, err
		}
		var pinned struct{ Replication []struct{ Live int } }
		if err := n.call(ctx, d, fmt.Sprintf("pin/add?arg=%s&replicate=%d", added.Hash, cfg.factor), nil, &pinned); err != nil {
			return nil, err
		}
		if len(pinned.Replication) != 1 {
			return nil, errors.New("pin/add?replicate answered without Replication")
		}
		log.Printf("soak: %s pinned on %s, %d live copies", added.Hash, d.id, pinned.Replication[0].Live)
		out = append(out, file{cid: added.Hash, sha256: sha256.Sum256(data)})
	}
	return out, nil
}

// waitPeers waits until d is connected to at least want peers.
func (n *network) waitPeers(ctx context.Context, d *daemon, want int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var peers struct{ Peers []struct{ Peer string } }
		if err := n.call(ctx, d, "swarm/peers", nil, &peers); err == nil && len(peers.Peers) >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not reach %d peers", d.id, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
