// Package daemonproc runs a long-lived child process (a `cairn daemon`,
// Kubo's `ipfs daemon`, the benchmark's wire sender) that says on stdout
// when it is ready, and stops it again. The end-to-end tests, the Kubo
// interop tests and the benchmark all start daemons this way; one copy
// keeps their readiness and shutdown rules the same. Test and benchmark
// support, not part of Cairn's API.
package daemonproc

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"
)

// Proc is one started child. Its methods are safe to call from any
// goroutine.
type Proc struct {
	name    string
	cmd     *exec.Cmd
	stderr  syncbuf.Buffer // written by exec's copier while callers read it
	ready   chan struct{}  // closed once onLine reported ready
	done    chan struct{}  // closed once the child has exited and been reaped
	waitErr error          // cmd.Wait's result; read only after done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts cmd and hands each line of its stdout, in order, to onLine
// until onLine returns true: the child is then ready (see WaitReady). The
// lines after that are read and dropped, so that the child never blocks
// on a full pipe. onLine runs on a goroutine of its own; whatever it
// records may be read once WaitReady has returned nil, since onLine is
// not called again after it reports ready.
//
// Start takes over cmd's Stderr (kept for Stderr) and SysProcAttr (see
// DieWithParent). name says which child an error is about, e.g.
// "cairn daemon". The caller must Stop the child, whether or not it
// became ready.
func Start(name string, cmd *exec.Cmd, onLine func(line string) (ready bool)) (*Proc, error) {
	p := &Proc{name: name, cmd: cmd, ready: make(chan struct{}), done: make(chan struct{})}
	cmd.Stderr = &p.stderr
	cmd.SysProcAttr = DieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go p.scan(stdout, onLine)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *Proc) scan(r io.Reader, onLine func(string) bool) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if onLine(sc.Text()) {
			close(p.ready)
			break
		}
	}
	io.Copy(io.Discard, r)
}

// WaitReady waits until the child is ready, and fails when it exits
// first, when timeout passes, or when ctx ends. It leaves the child
// running either way; the error does not carry the child's stderr, which
// the caller adds (all of it, or its last lines) from Stderr.
func (p *Proc) WaitReady(ctx context.Context, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.ready:
		return nil
	case <-p.done:
		return fmt.Errorf("%s exited before it was ready: %v", p.name, p.waitErr)
	case <-timer.C:
		return fmt.Errorf("%s not ready after %s", p.name, timeout)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", p.name, ctx.Err())
	}
}

// Stop sends SIGTERM and waits up to timeout for the child to exit; one
// that does not is killed, and waited for. The error says whether the
// child ignored SIGTERM or exited uncleanly (then wrapping cmd.Wait's
// error, an *exec.ExitError for a non-zero status). A child that had
// already exited is only reported on. Safe to call twice: later calls
// return the first call's result.
func (p *Proc) Stop(timeout time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Signal(syscall.SIGTERM)
			timer := time.NewTimer(timeout)
			defer timer.Stop()
			select {
			case <-p.done:
			case <-timer.C:
				p.cmd.Process.Kill()
				<-p.done
				p.stopErr = fmt.Errorf("%s ignored SIGTERM for %s and was killed", p.name, timeout)
				return
			}
		}
		if p.waitErr != nil {
			p.stopErr = fmt.Errorf("%s exited uncleanly: %w", p.name, p.waitErr)
		}
	})
	return p.stopErr
}

// Exited is closed once the child has exited, however it ended: for a
// check that it is still alive, or to wait for one a test killed itself.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// Process is the running child, for its pid and for other signals.
func (p *Proc) Process() *os.Process { return p.cmd.Process }

// Stderr is what the child has written to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }
