package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"
)

// proc is a long-running child (a daemon or the wire sender) whose stdout
// is scanned line by line until it says it is ready.
type proc struct {
	name   string
	cmd    *exec.Cmd
	exit   chan error // receives Wait's result once
	stderr *syncbuf.Buffer
	once   sync.Once
	err    error
}

// startProc starts cmd and feeds each stdout line to onLine until onLine
// returns true (ready). It fails when the process exits first or ready
// does not come within timeout.
func startProc(ctx context.Context, name string, cmd *exec.Cmd, timeout time.Duration, onLine func(string) bool) (*proc, error) {
	p := &proc{name: name, cmd: cmd, exit: make(chan error, 1), stderr: &syncbuf.Buffer{}}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ready := make(chan struct{})
	go scanLines(stdout, onLine, ready)
	go func() { p.exit <- cmd.Wait() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-ready:
		return p, nil
	case err := <-p.exit:
		p.exit <- err
		return nil, fmt.Errorf("%s exited before it was ready: %v: %s", name, err, lastLines(p.stderr.String(), 5))
	case <-timer.C:
		p.Close()
		return nil, fmt.Errorf("%s not ready after %s: %s", name, timeout, lastLines(p.stderr.String(), 5))
	case <-ctx.Done():
		p.Close()
		return nil, ctx.Err()
	}
}

// scanLines hands lines to onLine until it reports ready, then drains the
// rest so the child never blocks on a full pipe.
func scanLines(r io.Reader, onLine func(string) bool, ready chan struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if onLine(sc.Text()) {
			close(ready)
			break
		}
	}
	io.Copy(io.Discard, r)
}

// pid is the child's process id, for /proc.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// Close sends SIGTERM, waits up to 30 s for a clean exit, then kills.
// Safe to call twice; it returns the first call's result.
func (p *proc) Close() error { return p.closeAfter(0) }

// closeAfter first gives a child that was asked to stop some other way
// (its stdin closed) grace to exit by itself, then does what Close does.
func (p *proc) closeAfter(grace time.Duration) error {
	p.once.Do(func() {
		grant := time.NewTimer(grace)
		defer grant.Stop()
		select {
		case err := <-p.exit:
			p.err = p.exitErr(err)
			return
		case <-grant.C:
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(30 * time.Second)
		defer timer.Stop()
		select {
		case err := <-p.exit:
			p.err = p.exitErr(err)
		case <-timer.C:
			p.cmd.Process.Kill()
			<-p.exit
			p.err = fmt.Errorf("%s ignored SIGTERM for 30s and was killed", p.name)
		}
	})
	return p.err
}

func (p *proc) exitErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s exited uncleanly: %w: %s", p.name, err, lastLines(p.stderr.String(), 3))
}

// memory is a process's resident set now and at its peak, in bytes.
type memory struct{ rss, hwm int64 }

// readMemory reads VmRSS and VmHWM from /proc/PID/status.
func readMemory(pid int) (memory, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, fmt.Errorf("memory of pid %d: %w", pid, err)
	}
	var m memory
	for _, line := range strings.Split(string(raw), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("pid %d %s: %w", pid, key, err)
		}
		if key == "VmRSS" {
			m.rss = kb << 10
		} else {
			m.hwm = kb << 10
		}
	}
	if m.rss == 0 || m.hwm == 0 {
		return memory{}, errors.New("no VmRSS/VmHWM in /proc status")
	}
	return m, nil
}

// runOut runs a short command and returns its stdout, or an error with the
// end of its stderr.
func runOut(ctx context.Context, timeout time.Duration, env []string, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, lastLines(stderr.String(), 3))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
