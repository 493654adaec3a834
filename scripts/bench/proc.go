package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// proc is a long-running child (a daemon or the wire sender) started
// with daemonproc, closed the harness's way.
type proc struct{ *daemonproc.Proc }

// stopTimeout is how long Close waits for a child to exit after SIGTERM
// before it kills it.
const stopTimeout = 30 * time.Second

// startProc starts cmd and feeds each stdout line to onLine until onLine
// returns true (ready). It fails, closing the child, when the process
// exits first or ready does not come within timeout.
func startProc(ctx context.Context, name string, cmd *exec.Cmd, timeout time.Duration, onLine func(string) bool) (*proc, error) {
	p, err := daemonproc.Start(name, cmd, onLine)
	if err != nil {
		return nil, err
	}
	if err := p.WaitReady(ctx, timeout); err != nil {
		p.Stop(stopTimeout)
		return nil, fmt.Errorf("%w: %s", err, lastLines(p.Stderr(), 5))
	}
	return &proc{p}, nil
}

// pid is the child's process id, for /proc.
func (p *proc) pid() int { return p.Process().Pid }

// Close sends SIGTERM, waits up to 30 s for a clean exit, then kills.
// Safe to call twice; it returns the first call's result.
func (p *proc) Close() error { return p.closeAfter(0) }

// closeAfter first gives a child that was asked to stop some other way
// (its stdin closed) grace to exit by itself, then does what Close does.
func (p *proc) closeAfter(grace time.Duration) error {
	grant := time.NewTimer(grace)
	defer grant.Stop()
	select {
	case <-p.Exited():
	case <-grant.C:
	}
	if err := p.Stop(stopTimeout); err != nil {
		return fmt.Errorf("%w: %s", err, lastLines(p.Stderr(), 3))
	}
	return nil
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
