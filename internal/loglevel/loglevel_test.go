package loglevel

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

// newLogger logs into a buffer through the level filter, default info,
// and puts the levels back as they were when the test ends.
func newLogger(t *testing.T) (*slog.Logger, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	h := NewHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), slog.LevelInfo)
	t.Cleanup(func() { setAll(slog.LevelInfo) })
	return slog.New(h), &buf
}

// A subsystem's level decides for its own records, which the handler
// tells apart by the package that logged them; a sub-package takes its
// parent's level until given its own.
func TestSubsystemLevels(t *testing.T) {
	log, buf := newLogger(t)
	log.Debug("hidden at info")
	log.Info("shown at info")
	if err := Set("internal", "debug"); err != nil {
		t.Fatal(err)
	}
	log.With("k", "v").Debug("shown: parent at debug")
	if err := Set("internal/loglevel", "error"); err != nil {
		t.Fatal(err)
	}
	log.Warn("hidden: own level error")
	log.Error("shown at error")
	if err := Set("shell", "debug"); err != nil {
		t.Fatal(err)
	}
	log.Info("hidden: another subsystem's level is not ours")

	out := buf.String()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, "shown") {
			t.Errorf("logged %q", line)
		}
	}
	if n := strings.Count(out, "shown"); n != 3 {
		t.Errorf("%d records shown, want 3:\n%s", n, out)
	}
}

// "all" sets every subsystem, Cairn's and go-log's, and forgets the
// levels given before.
func TestSetAll(t *testing.T) {
	log, buf := newLogger(t)
	golog.Logger("cairn-loglevel-test")
	t.Cleanup(func() { _ = golog.SetLogLevel("*", "error") })
	if err := Set("internal/loglevel", "error"); err != nil {
		t.Fatal(err)
	}
	if err := Set("all", "debug"); err != nil {
		t.Fatal(err)
	}
	log.Debug("shown")
	if !strings.Contains(buf.String(), "shown") {
		t.Errorf("debug record not shown after all=debug: %q", buf.String())
	}
	if lvl, _ := golog.SubsystemLevelName("cairn-loglevel-test"); lvl != "debug" {
		t.Errorf("go-log subsystem at %q, want debug", lvl)
	}
}

// go-log's subsystems (go-libp2p's, boxo's) are set through go-log, even
// one that has not logged yet: it takes the level when it does.
func TestSetGoLogSubsystem(t *testing.T) {
	t.Cleanup(func() { _ = golog.SetLogLevel("cairn-loglevel-later", "error") })
	if err := Set("cairn-loglevel-later", "warn"); err != nil {
		t.Fatal(err)
	}
	golog.Logger("cairn-loglevel-later")
	if lvl, _ := golog.SubsystemLevelName("cairn-loglevel-later"); lvl != "warn" {
		t.Errorf("a go-log logger made after Set is at %q, want warn", lvl)
	}

	golog.Logger("cairn-loglevel-other")
	t.Cleanup(func() { _ = golog.SetLogLevel("cairn-loglevel-other", "error") })
	if err := Set("cairn-loglevel-other", "info"); err != nil {
		t.Fatal(err)
	}
	if lvl, _ := golog.SubsystemLevelName("cairn-loglevel-other"); lvl != "info" {
		t.Errorf("level %q, want info", lvl)
	}
}

func TestSetRefusesUnknown(t *testing.T) {
	for _, c := range []struct{ sub, level, want string }{
		{"", "debug", "no log subsystem named"},
		{"content", "loud", `unknown log level "loud"`},
	} {
		if err := Set(c.sub, c.level); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%q, %q) = %v, want %q", c.sub, c.level, err, c.want)
		}
	}
	if subs := Subsystems(); !strings.Contains(strings.Join(subs, " "), "content") {
		t.Errorf("Subsystems() = %v", subs)
	}
}

func TestPackageOf(t *testing.T) {
	for fn, want := range map[string]string{
		"github.com/cairnnet/cairn/content/fastpath.(*Job).leave": "content/fastpath",
		"github.com/cairnnet/cairn/peer.New":                      "peer",
		"main.runDaemon":                                          "main",
		"github.com/libp2p/go-libp2p/p2p/net/swarm.(*Swarm).dial": "github.com/libp2p/go-libp2p/p2p/net/swarm",
		"nodot": "",
	} {
		if got := packageOf(fn); got != want {
			t.Errorf("packageOf(%q) = %q, want %q", fn, got, want)
		}
	}
}

// Install routes go-libp2p's loggers through go-log, so that Set changes
// their level at run time, and Cairn's through the subsystem filter.
func TestInstall(t *testing.T) {
	old := slog.Default()
	t.Cleanup(func() {
		slog.SetDefault(old)
		setAll(slog.LevelInfo)
		_ = golog.SetLogLevel("cairn-shim-test", "error")
	})
	var buf bytes.Buffer
	Install(&buf, slog.LevelInfo)
	slog.Debug("hidden")
	if err := Set("internal/loglevel", "debug"); err != nil {
		t.Fatal(err)
	}
	slog.Debug("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, "shown") {
		t.Errorf("Cairn's log: %q", out)
	}

	shim := gologshim.Logger("cairn-shim-test")
	ctx := t.Context()
	if shim.Enabled(ctx, slog.LevelDebug) {
		t.Fatal("a go-libp2p logger is at debug before any Set")
	}
	if err := Set("cairn-shim-test", "debug"); err != nil {
		t.Fatal(err)
	}
	if !shim.Enabled(ctx, slog.LevelDebug) {
		t.Error("Set did not reach the go-libp2p logger")
	}
}
