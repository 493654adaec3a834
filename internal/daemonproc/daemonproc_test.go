package daemonproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary play a daemon, in the way its value
// names (see child).
const childEnv = "DAEMONPROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child is the fake daemon: it prints Cairn's start-up lines (unless told
// to fail first) and then waits for SIGTERM, or ignores it.
func child(mode string) int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Fprintln(os.Stderr, "starting")
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "no repo")
		return 3
	case "silent":
		<-term
		return 0
	}
	fmt.Println("peer id: 12D3KooWTest")
	fmt.Println("swarm listening on /ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTest")
	fmt.Println("shell listening on /ip4/127.0.0.1/tcp/5001")
	fmt.Println("gateway listening on /ip4/127.0.0.1/tcp/8080")
	fmt.Println("daemon is ready")
	fmt.Println("swarm listening on /ip4/127.0.0.1/tcp/9999/p2p/late")
	switch mode {
	case "deaf":
		signal.Ignore(syscall.SIGTERM)
		select {} // killed by Stop
	case "unclean":
		<-term
		return 1
	}
	<-term
	return 0
}

// start runs the test binary as a child in mode; the test stops it.
func start(t *testing.T, mode string, onLine func(string) bool) *Proc {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	p, err := Start("fake daemon", cmd, onLine)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop(10 * time.Second) })
	return p
}

func TestReadyThenStop(t *testing.T) {
	var c Cairn
	p := start(t, "ok", c.Line)
	if err := p.WaitReady(t.Context(), time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	want := Cairn{ID: "12D3KooWTest", Swarm: []string{"/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTest"}, Shell: "/ip4/127.0.0.1/tcp/5001", Gateway: "/ip4/127.0.0.1/tcp/8080"}
	if c.ID != want.ID || !slices.Equal(c.Swarm, want.Swarm) || c.Shell != want.Shell || c.Gateway != want.Gateway {
		t.Fatalf("collected %+v, want %+v (and nothing after ready)", c, want)
	}
	select {
	case <-p.Exited():
		t.Fatal("exited while it should be serving")
	default:
	}
	if err := p.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}
	<-p.Exited()
	if err := p.Stop(time.Minute); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if !strings.Contains(p.Stderr(), "starting") {
		t.Fatalf("stderr %q lacks the child's output", p.Stderr())
	}
}

func TestWaitReadyFails(t *testing.T) {
	t.Run("exits first", func(t *testing.T) {
		var c Cairn
		p := start(t, "exit", c.Line)
		err := p.WaitReady(t.Context(), time.Minute)
		if err == nil || !strings.Contains(err.Error(), "exited before it was ready: exit status 3") {
			t.Fatalf("WaitReady: %v", err)
		}
		if !strings.Contains(p.Stderr(), "no repo") {
			t.Fatalf("stderr %q lacks the child's reason", p.Stderr())
		}
		if err := p.Stop(time.Minute); !errors.As(err, new(*exec.ExitError)) {
			t.Fatalf("Stop after an unclean exit: %v, want an *exec.ExitError", err)
		}
	})
	t.Run("never ready", func(t *testing.T) {
		var c Cairn
		p := start(t, "silent", c.Line)
		err := p.WaitReady(t.Context(), 100*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "not ready after 100ms") {
			t.Fatalf("WaitReady: %v", err)
		}
		if err := p.Stop(time.Minute); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		var c Cairn
		p := start(t, "silent", c.Line)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := p.WaitReady(ctx, time.Minute); !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitReady: %v, want context.Canceled", err)
		}
	})
}

func TestStopReports(t *testing.T) {
	t.Run("unclean exit", func(t *testing.T) {
		var c Cairn
		p := start(t, "unclean", c.Line)
		if err := p.WaitReady(t.Context(), time.Minute); err != nil {
			t.Fatal(err)
		}
		err := p.Stop(time.Minute)
		if !errors.As(err, new(*exec.ExitError)) || !strings.Contains(err.Error(), "exited uncleanly") {
			t.Fatalf("Stop: %v", err)
		}
	})
	t.Run("SIGTERM ignored", func(t *testing.T) {
		var c Cairn
		p := start(t, "deaf", c.Line)
		if err := p.WaitReady(t.Context(), time.Minute); err != nil {
			t.Fatal(err)
		}
		err := p.Stop(100 * time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "ignored SIGTERM for 100ms and was killed") {
			t.Fatalf("Stop: %v", err)
		}
		select {
		case <-p.Exited():
		default:
			t.Fatal("Stop returned before the killed child was reaped")
		}
	})
}

func TestLines(t *testing.T) {
	var c Cairn
	for _, line := range []string{"peer id: P", "swarm listening on /a", "swarm listening on /b", "shell listening on /s", "gateway listening on /g", "unrelated"} {
		if c.Line(line) {
			t.Fatalf("%q read as ready", line)
		}
	}
	if !c.Line("daemon is ready") || c.ID != "P" || !slices.Equal(c.Swarm, []string{"/a", "/b"}) || c.Shell != "/s" || c.Gateway != "/g" {
		t.Fatalf("Cairn lines: %+v", c)
	}
	var k Kubo
	for _, line := range []string{"RPC API server listening on /r", "Gateway server listening on /g", "WebUI: http://x"} {
		if k.Line(line) {
			t.Fatalf("%q read as ready", line)
		}
	}
	if !k.Line("Daemon is ready") || k.API != "/r" || k.Gateway != "/g" {
		t.Fatalf("Kubo lines: %+v", k)
	}
	if k.Line("daemon is ready") {
		t.Fatal("Kubo ready on Cairn's line")
	}
}
