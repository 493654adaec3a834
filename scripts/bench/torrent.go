package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"
)

// debianPython is Debian's interpreter, the one python3-libtorrent
// installs its module for (a python3 first on PATH may be another).
const debianPython = "/usr/bin/python3"

// libtorrentReady reports whether Debian's libtorrent module imports.
func libtorrentReady(ctx context.Context) bool {
	return exec.CommandContext(ctx, debianPython, "-c", "import libtorrent").Run() == nil
}

// ensureLibtorrent installs python3-libtorrent with apt-get when its
// module is missing (the bench runs as root on the project's machines).
func ensureLibtorrent(ctx context.Context, log func(string, ...any)) error {
	if libtorrentReady(ctx) {
		return nil
	}
	log("installing python3-libtorrent with apt-get")
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "python3-libtorrent")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get install python3-libtorrent (or pass --no-libtorrent): %w: %s", err, lastLines(string(out), 3))
	}
	if !libtorrentReady(ctx) {
		return errors.New("python3-libtorrent installed but its module does not import (pass --no-libtorrent)")
	}
	return nil
}

// torrentScript is the bench's libtorrent driver.
func (e *env) torrentScript() string {
	return filepath.Join(e.cfg.Root, "scripts", "bench", "torrent.py")
}

// makeTorrent writes the v2 torrent of the SIZE data file, once.
func (e *env) makeTorrent(ctx context.Context) error {
	e.torrent = filepath.Join(e.tmp, "data.torrent")
	_, err := runOut(ctx, 10*time.Minute, nil, debianPython, e.torrentScript(), "make", e.files[e.cfg.Size].path, e.torrent)
	return err
}

// runLibtorrent moves the SIZE file from a fresh seeder to a fresh
// downloader, on libtorrent's defaults then tuned, and records each.
func (e *env) runLibtorrent(ctx context.Context) error {
	for _, tuned := range []bool{false, true} {
		col := colLibtorrent
		if tuned {
			col = colLibtorrentTuned
		}
		e.logf("%s: file to file %s", col, human(e.cfg.Size))
		t, err := e.torrentOnce(ctx, tuned)
		if err != nil {
			return fmt.Errorf("%s: %w", col, err)
		}
		e.recordFile(col, t, e.cfg.Size)
	}
	return nil
}

// torrentOnce runs one seeder and one downloader into a fresh directory.
func (e *env) torrentOnce(ctx context.Context, tuned bool) (t timedFile, err error) {
	data := e.files[e.cfg.Size]
	args := []string{e.torrentScript(), "seed", e.torrent, filepath.Dir(data.path)}
	if tuned {
		args = append(args, "--tuned")
	}
	seeder := exec.Command(debianPython, args...)
	stdin, err := seeder.StdinPipe()
	if err != nil {
		return t, err
	}
	var port int
	p, err := startProc(ctx, "libtorrent seeder", seeder, time.Minute, func(line string) bool {
		if v, ok := strings.CutPrefix(line, "port "); ok {
			port, _ = strconv.Atoi(v)
			return port > 0
		}
		return false
	})
	if err != nil {
		return t, err
	}
	defer func() {
		stdin.Close()
		err = errors.Join(err, p.closeAfter(5*time.Second))
	}()
	dir, err := os.MkdirTemp(e.tmp, "torrent-")
	if err != nil {
		return t, err
	}
	defer os.RemoveAll(dir)
	t, err = e.download(ctx, p.pid(), dir, port, tuned)
	if err != nil {
		return t, err
	}
	return t, checkFile(filepath.Join(dir, filepath.Base(data.path)), data)
}

// download runs the downloader into dir from the seeder at port, metering
// the seeder (pid) and the downloader.
func (e *env) download(ctx context.Context, seeder int, dir string, port int, tuned bool) (timedFile, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	args := []string{e.torrentScript(), "fetch", e.torrent, dir, strconv.Itoa(port)}
	if tuned {
		args = append(args, "--tuned")
	}
	cmd := exec.CommandContext(ctx, debianPython, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return timedFile{}, err
	}
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	meter, err := startCPU(seeder)
	if err != nil {
		return timedFile{}, err
	}
	if err := cmd.Start(); err != nil {
		return timedFile{}, err
	}
	took, readErr := readDone(stdout)
	if err := cmd.Wait(); err != nil {
		return timedFile{}, fmt.Errorf("downloader: %w: %s", err, lastLines(stderr.String(), 3))
	}
	if readErr != nil {
		return timedFile{}, readErr
	}
	used, err := meter.stop()
	if err != nil {
		return timedFile{}, err
	}
	cpu := fetchCPU{serving: used[0], fetching: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	return timedFile{took: took, cpu: cpu}, nil
}

// readDone reads the downloader's lines for its "done SECONDS".
func readDone(r io.Reader) (time.Duration, error) {
	sc := bufio.NewScanner(r)
	var took time.Duration
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "done "); ok {
			s, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("downloader said %q", sc.Text())
			}
			took = time.Duration(s * float64(time.Second))
		}
	}
	if took == 0 {
		return 0, errors.New("the downloader never finished")
	}
	return took, sc.Err()
}
