package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"
)

// File to file: what a user moving a big file between two machines sees.
// Cairn's row is `cairn get -o FILE` on a fresh fetching daemon connected
// to the provider; libtorrent's (torrent.go) is a fresh downloader of a
// v2 torrent from one seeder. Both write the file; the clock stops when
// it is complete.

// timedFile is one file-to-file transfer: its wall time, the CPU of the
// serving side, the fetching side and the client (Cairn's CLI; none for
// libtorrent), and the file written.
type timedFile struct {
	took time.Duration
	cpu  fetchCPU
	path string
}

// getToFile runs `cairn get -o` of big on a fresh fetcher connected to
// provider and checks the file it wrote.
func (e *env) getToFile(ctx context.Context, provider node, big added) (err error) {
	f, err := startCairn(ctx, e.cairn, e.tmp, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := connect(ctx, f, provider); err != nil {
		return err
	}
	out := filepath.Join(f.root, "out.bin")
	defer os.Remove(out)
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	meter, err := startCPU(provider.pid(), f.pid())
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, e.cairn, "get", "--repo", f.repo, "--quiet", "-o", out, big.cid)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cairn get: %w: %s", err, lastLines(stderr.String(), 3))
	}
	took := time.Since(start)
	used, err := meter.stop()
	if err != nil {
		return err
	}
	cpu := fetchCPU{serving: used[0], fetching: used[1], client: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if err := checkFile(out, big.dataFile); err != nil {
		return fmt.Errorf("cairn get: %w", err)
	}
	e.recordFile(colCairn, timedFile{took: took, cpu: cpu}, big.size)
	return nil
}

// checkFile fails unless path holds want's bytes.
func checkFile(path string, want dataFile) error {
	d := dataFile{path: path}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	d.size = fi.Size()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := timedRead(f, time.Now())
	if err != nil {
		return err
	}
	return t.check("file written", want.size, want.sum)
}

// recordFile files one file-to-file transfer of n bytes under col.
func (e *env) recordFile(col string, t timedFile, n int64) {
	e.samples.add(key(rowFile, col), rate(n, t.took))
	e.samples.add(key(rowFileCPUServing, col), perGiB(t.cpu.serving, n))
	e.samples.add(key(rowFileCPUFetching, col), perGiB(t.cpu.fetching, n))
	if t.cpu.client > 0 {
		e.samples.add(key(rowFileCPUClient, col), perGiB(t.cpu.client, n))
	}
	e.samples.add(key(rowFileCPUAll, col), perGiB(t.cpu.serving+t.cpu.fetching+t.cpu.client, n))
}
