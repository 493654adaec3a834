package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// env is what every run shares: binaries, data and where to put repos.
type env struct {
	cfg     config
	tmp     string
	cairn   string // cairn binary
	kubo    string // ipfs binary; empty with --no-kubo
	files   map[int64]dataFile
	torrent string // the SIZE file's v2 torrent; empty with --no-libtorrent
	log     io.Writer
	samples samples
	loads   []string // /proc/loadavg before each run
}

// run builds what it needs, measures cfg.Runs times, and reports.
func run(ctx context.Context, cfg config, stdout io.Writer) error {
	tmp, err := os.MkdirTemp("", "cairn-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{cfg: cfg, tmp: tmp, log: os.Stderr, samples: samples{}, files: map[int64]dataFile{}}
	if err := e.prepare(ctx); err != nil {
		return err
	}
	for i := range cfg.Runs {
		load, _ := os.ReadFile("/proc/loadavg")
		e.loads = append(e.loads, strings.TrimSpace(string(load)))
		e.logf("run %d of %d (load %s)", i+1, cfg.Runs, e.loads[i])
		if err := e.runOnce(ctx); err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
	}
	rep := e.report()
	fmt.Fprint(stdout, rep.markdown())
	if err := rep.write(cfg.Out); err != nil {
		return err
	}
	if cfg.Profile {
		if err := e.profileFetch(ctx); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}
	return nil
}

// prepare builds cairn, finds Kubo and writes the random data once.
func (e *env) prepare(ctx context.Context) error {
	built := filepath.Join(e.tmp, "cairn-built")
	e.logf("building cairn")
	build := exec.CommandContext(ctx, "go", "build", "-o", built, ".")
	build.Dir = e.cfg.Root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build cairn: %w\n%s", err, out)
	}
	// Both daemons run from plain copies, as installed programs do. A
	// file the Go linker has just written is mapped in 2 MiB pages on
	// this kernel, which adds about 8 MiB to a daemon's RSS (measured:
	// 54.6 MiB idle straight from go build, 46.5 from a copy), so the
	// idle-RSS row would otherwise depend on which binary was built last.
	e.cairn = filepath.Join(e.tmp, "cairn")
	if err := copyFile(built, e.cairn); err != nil {
		return err
	}
	if !e.cfg.NoKubo {
		bin, err := findKubo(ctx, e.cfg)
		if err != nil {
			return err
		}
		e.kubo = filepath.Join(e.tmp, "ipfs")
		if err := copyFile(bin, e.kubo); err != nil {
			return err
		}
	}
	if !e.cfg.NoLibtorrent {
		if err := ensureLibtorrent(ctx, e.logf); err != nil {
			return err
		}
	}
	sizes := append(e.cfg.fetchSizes(), e.cfg.Size)
	for _, size := range sizes {
		if _, ok := e.files[size]; ok {
			continue
		}
		e.logf("writing %s of random data", human(size))
		// Each size gets its own bytes: a shared prefix would let one
		// fetch warm the blocks of the next.
		d, err := writeRandom(filepath.Join(e.tmp, fmt.Sprintf("data-%d.bin", size)), size)
		if err != nil {
			return err
		}
		e.files[size] = d
	}
	if e.cfg.NoLibtorrent {
		return nil
	}
	return e.makeTorrent(ctx)
}

// findKubo takes --kubo (or $CAIRN_KUBO), else scripts/kubo.sh's binary,
// which that script builds on first use (about 2 minutes).
func findKubo(ctx context.Context, cfg config) (string, error) {
	if cfg.Kubo != "" {
		return cfg.Kubo, nil
	}
	script := filepath.Join(cfg.Root, "scripts", "kubo.sh")
	out, err := runOut(ctx, 10*time.Minute, nil, "bash", script)
	if err != nil {
		return "", fmt.Errorf("kubo (or pass --no-kubo): %w", err)
	}
	return lastLine(out), nil
}

// runOnce measures everything once, each daemon on a fresh repo.
func (e *env) runOnce(ctx context.Context) error {
	d, err := hashFile(e.files[e.cfg.Size])
	if err != nil {
		return err
	}
	e.samples.add(keySHA, rate(e.cfg.Size, d))
	if err := e.runWire(ctx); err != nil {
		return err
	}
	if err := e.runCairn(ctx); err != nil {
		return err
	}
	if e.torrent != "" {
		if err := e.runLibtorrent(ctx); err != nil {
			return err
		}
	}
	if e.kubo == "" {
		return nil
	}
	return e.runKubo(ctx)
}

// runWire measures the bare-stream limit for every fetch size.
func (e *env) runWire(ctx context.Context) error {
	w, err := startWire(ctx)
	if err != nil {
		return err
	}
	for _, size := range e.cfg.fetchSizes() {
		meter, err := startCPU(w.child.pid())
		if err != nil {
			w.Close()
			return err
		}
		t, err := w.fetch(ctx, e.files[size])
		if err != nil {
			w.Close()
			return err
		}
		used, err := meter.stop()
		if err != nil {
			w.Close()
			return err
		}
		e.samples.add(fetchKey(size, colLimit), t.mbps())
		if size == e.cfg.Size {
			// The receiver is its own client: no third process.
			e.recordCPU(colLimit, fetchCPU{serving: used[0], fetching: used[1]}, t.n)
		}
	}
	return w.Close()
}

func (e *env) logf(format string, args ...any) {
	fmt.Fprintf(e.log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// rate is bytes over d in MB/s.
func rate(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

// mib is bytes in MiB.
func mib(n int64) float64 { return float64(n) / (1 << 20) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// tinyFile writes a fresh 1 KiB file for one time-to-first-byte probe, so
// no probe finds its block already fetched.
func (e *env) tinyFile() (dataFile, error) {
	f, err := os.CreateTemp(e.tmp, "tiny-")
	if err != nil {
		return dataFile{}, err
	}
	f.Close()
	return writeRandom(f.Name(), 1<<10)
}

// copyFile writes a fresh executable copy of src at dst.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}
