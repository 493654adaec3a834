package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// cpuProfileSource is added to package main of a second cairn binary with
// `go build -overlay`, so that Cairn itself needs no profiling endpoint:
// with $CAIRN_CPUPROFILE set, the first SIGUSR1 starts a CPU profile and
// the second writes it there (through a rename, so that a file at that
// path is always whole).
const cpuProfileSource = `package main

import (
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func init() {
	path := os.Getenv("CAIRN_CPUPROFILE")
	if path == "" {
		return
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		<-sig
		f, err := os.Create(path + ".tmp")
		if err != nil || pprof.StartCPUProfile(f) != nil {
			return
		}
		<-sig
		pprof.StopCPUProfile()
		if f.Close() == nil {
			os.Rename(path+".tmp", path)
		}
	}()
}
`

// buildProfiling builds cairn with cpuProfileSource overlaid into dst.
func buildProfiling(ctx context.Context, root, tmp, dst string) error {
	src := filepath.Join(tmp, "cpuprofile.go")
	if err := os.WriteFile(src, []byte(cpuProfileSource), 0o644); err != nil {
		return err
	}
	abs, err := filepath.Abs(filepath.Join(root, "zz_bench_cpuprofile.go"))
	if err != nil {
		return err
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {abs: src}})
	if err != nil {
		return err
	}
	ov := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o644); err != nil {
		return err
	}
	build := exec.CommandContext(ctx, "go", "build", "-overlay", ov, "-o", dst, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build profiling cairn: %w\n%s", err, out)
	}
	return nil
}

// profileFetch runs one more Cairn fetch of SIZE with the fetching daemon
// profiled from just before the cat to just after, and leaves the profile
// at out/fetch-cpu.pprof.
func (e *env) profileFetch(ctx context.Context) (err error) {
	bin := filepath.Join(e.tmp, "cairn-pprof")
	if err := buildProfiling(ctx, e.cfg.Root, e.tmp, bin); err != nil {
		return err
	}
	out, err := filepath.Abs(filepath.Join(e.cfg.Out, "fetch-cpu.pprof"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(e.cfg.Out, 0o755); err != nil {
		return err
	}
	os.Remove(out)
	a, err := startCairn(ctx, e.cairn, e.tmp, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	file := e.files[e.cfg.Size]
	cid, err := a.add(ctx, file.path)
	if err != nil {
		return err
	}
	tiny, err := e.tinyOn(ctx, 1, func(path string) (string, error) { return a.add(ctx, path) })
	if err != nil {
		return err
	}
	start := func(ctx context.Context) (node, error) {
		return startCairn(ctx, bin, e.tmp, []string{"CAIRN_CPUPROFILE=" + out})
	}
	profiled := func(ctx context.Context, n node, cid string) (transfer, error) {
		p := n.(*cairnNode).Process()
		if err := p.Signal(syscall.SIGUSR1); err != nil {
			return transfer{}, err
		}
		t, err := rpcCat(ctx, n, cid)
		if err != nil {
			return transfer{}, err
		}
		if err := p.Signal(syscall.SIGUSR1); err != nil {
			return transfer{}, err
		}
		return t, waitFile(ctx, out, 30*time.Second)
	}
	e.logf("cairn: profiled fetch %s", human(e.cfg.Size))
	s, err := runSession(ctx, start, a, tiny, added{file, cid}, profiled)
	if err != nil {
		return err
	}
	e.logf("profiled fetch ran at %s MB/s; profile in %s (go tool pprof -top %s)", num(s.fetch.mbps()), out, out)
	return nil
}

// waitFile polls for path to appear, up to timeout.
func waitFile(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no CPU profile at %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}
