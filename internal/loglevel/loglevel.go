// Package loglevel gives each of Cairn's packages a log level of its own,
// changed at run time (`cairn log level SUBSYSTEM LEVEL`, Kubo's command),
// and passes the same change on to go-log, which holds the levels of
// go-libp2p's, kad-dht's and boxo's subsystems.
//
// Cairn logs with log/slog through slog.Default(); the program wraps its
// handler with NewHandler, which tells a record's subsystem by the package
// of the function that logged it (content, content/fastpath, shell, ...).
// Levels are the process's, as slog.Default and go-log's are.
package loglevel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"

	golog "github.com/ipfs/go-log/v2"
	"github.com/libp2p/go-libp2p/gologshim"
)

// module is the import path of Cairn's packages, stripped from subsystem
// names.
const module = "github.com/cairnnet/cairn/"

// Top-level subsystems: Cairn's packages and the program itself ("main").
// A sub-package ("content/fastpath") is a subsystem too, and takes its
// parent's level until it is given its own.
var cairnSubsystems = []string{"main", "cli", "peer", "shell", "content", "dht", "discovery", "internal"}

// table holds the default level and each subsystem's own.
type table struct {
	sync.RWMutex
	def  slog.Level
	subs map[string]slog.Level
	min  slog.Level // the lowest of def and subs: what Enabled lets through
}

// levels is the process's table.
var levels = &table{subs: map[string]slog.Level{}}

// pkgs caches the subsystem of each logging call site (a PC).
var pkgs sync.Map

// Install makes the process log text to w: Cairn's records through
// slog.Default, filtered by subsystem from def (log.level in config.yaml),
// and go-libp2p's through go-log, whose per-subsystem levels Set changes
// (go-libp2p's own default handler would fix them at start). Call it
// before the node starts, so that go-libp2p's loggers pick it up.
func Install(w io.Writer, def slog.Level) {
	slog.SetDefault(slog.New(NewHandler(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}), def)))
	gologshim.SetDefaultHandler(golog.SlogHandler())
}

// handler filters records by their subsystem's level before next.
type handler struct{ next slog.Handler }

// NewHandler wraps next, which should accept every level, so that a
// record passes when its level reaches its subsystem's; def is the level
// of the subsystems not given one (log.level in config.yaml).
func NewHandler(next slog.Handler, def slog.Level) slog.Handler {
	levels.Lock()
	levels.def = def
	levels.recomputeMin()
	levels.Unlock()
	return handler{next: next}
}

// Enabled lets a level through if any subsystem logs at it; Handle then
// decides by the record's subsystem.
func (h handler) Enabled(ctx context.Context, l slog.Level) bool {
	levels.RLock()
	lowest := levels.min
	levels.RUnlock()
	return l >= lowest && h.next.Enabled(ctx, l)
}

// Handle passes r on if its subsystem's level lets it through.
func (h handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < levelOf(subsystemOf(r.PC)) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs keeps the filter on the derived handler.
func (h handler) WithAttrs(as []slog.Attr) slog.Handler { return handler{h.next.WithAttrs(as)} }

// WithGroup keeps the filter on the derived handler.
func (h handler) WithGroup(name string) slog.Handler { return handler{h.next.WithGroup(name)} }

// subsystemOf names the package of the function at pc, relative to
// Cairn's module ("" when unknown).
func subsystemOf(pc uintptr) string {
	if pc == 0 {
		return ""
	}
	if s, ok := pkgs.Load(pc); ok {
		return s.(string)
	}
	frame, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	s := packageOf(frame.Function)
	pkgs.Store(pc, s)
	return s
}

// packageOf strips a function's name ("github.com/x/y/pkg.(*T).M") to its
// package, relative to Cairn's module.
func packageOf(function string) string {
	slash := strings.LastIndex(function, "/")
	dot := strings.Index(function[slash+1:], ".")
	if dot < 0 {
		return ""
	}
	return strings.TrimPrefix(function[:slash+1+dot], module)
}

// levelOf is sub's level: its own, else its closest parent's, else the
// default.
func levelOf(sub string) slog.Level {
	levels.RLock()
	defer levels.RUnlock()
	for s := sub; s != ""; {
		if l, ok := levels.subs[s]; ok {
			return l
		}
		i := strings.LastIndex(s, "/")
		if i < 0 {
			break
		}
		s = s[:i]
	}
	return levels.def
}

// recomputeMin is called with the lock held after any change.
func (t *table) recomputeMin() {
	t.min = t.def
	for _, l := range t.subs {
		t.min = min(t.min, l)
	}
}

// parseLevel reads go-log's level names, which Kubo's command takes.
// dpanic, panic and fatal silence Cairn's subsystems but for errors of
// that gravity, which Cairn does not log.
func parseLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "dpanic", "panic", "fatal":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("unknown log level %q: want debug, info, warn, error, dpanic, panic or fatal", name)
}

// Set sets subsystem's level: one of Cairn's (its sub-packages too, until
// they are set apart), or else one of go-log's (go-libp2p's, kad-dht's,
// boxo's: `swarm2`, `dht`, `bitswap`, ...), or, for "all" or "*", every
// one. A name both Cairn and go-log know ("dht") is set in both. go-log
// takes names it has not seen yet, since go-libp2p's loggers make
// themselves known only when they first log, and applies the level then.
func Set(subsystem, level string) error {
	l, err := parseLevel(level)
	if err != nil {
		return err
	}
	if subsystem == "" {
		return fmt.Errorf("no log subsystem named: Cairn's are %s and their sub-packages; `all` sets every one", strings.Join(cairnSubsystems, ", "))
	}
	if subsystem == "all" || subsystem == "*" {
		setAll(l)
		return golog.SetLogLevel("*", level)
	}
	if !isCairn(subsystem) {
		return golog.SetLogLevel(subsystem, level)
	}
	levels.Lock()
	levels.subs[subsystem] = l
	levels.recomputeMin()
	levels.Unlock()
	if isGoLog(subsystem) {
		return golog.SetLogLevel(subsystem, level)
	}
	return nil
}

func setAll(l slog.Level) {
	levels.Lock()
	defer levels.Unlock()
	levels.def = l
	clear(levels.subs)
	levels.recomputeMin()
}

// isCairn reports whether sub is one of Cairn's packages or below one.
func isCairn(sub string) bool {
	top, _, _ := strings.Cut(sub, "/")
	return slices.Contains(cairnSubsystems, top)
}

// isGoLog reports whether go-log knows sub: a logger made with go-log, or
// a go-libp2p subsystem that has logged through go-log's bridge.
func isGoLog(sub string) bool {
	if slices.Contains(golog.GetSubsystems(), sub) {
		return true
	}
	_, ok := golog.SubsystemLevelNames()[sub]
	return ok
}

// Subsystems lists the names Set takes besides "all": Cairn's top-level
// ones and go-log's, sorted.
func Subsystems() []string {
	out := slices.Clone(cairnSubsystems)
	out = append(out, golog.GetSubsystems()...)
	for s := range golog.SubsystemLevelNames() {
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
