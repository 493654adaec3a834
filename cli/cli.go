// Package cli is the cairn command line: it runs a Cairn peer and talks
// to a running one.
//
//	cairn init [--repo DIR]         create a repo (identity, config, datastore)
//	cairn daemon [flags]            run a peer in the foreground
//	cairn add|cat|get|id|...        client commands, spoken to the daemon's shell
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/cairnnet/cairn/peer"
	golog "github.com/ipfs/go-log/v2"
)

// defaultConfig is the documented config.yaml, copied into each new repo;
// Run sets it from what main embeds (go:embed cannot reach the root's file
// from this package).
var defaultConfig []byte

// errUsage marks a command line that could not be understood (exit code 2).
var errUsage = errors.New("usage")

// Run executes one command line with config, the documented config.yaml,
// as the default config of new repos, and returns the exit code.
func Run(args []string, stdout, stderr io.Writer, config []byte) int {
	defaultConfig = config
	return run(args, stdout, stderr)
}

// run executes one command line and returns the exit code: 0 on success,
// 1 when the command failed, 2 when it could not be understood.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := dispatch(ctx, args[0], args[1:], stdout)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "cairn: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "cairn: %s\n", strings.Join(strings.Fields(err.Error()), " "))
		return 1
	}
}

func dispatch(ctx context.Context, name string, args []string, stdout io.Writer) error {
	switch name {
	case "init":
		return cmdInit(args, stdout)
	case "daemon":
		return cmdDaemon(ctx, args, stdout)
	}
	cmd, ok := clientCommands[name]
	if !ok {
		return fmt.Errorf("%w: unknown command %q (see `cairn help`)", errUsage, name)
	}
	return cmd.Run(ctx, args, stdout)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cairn <command> [flags]")
	fmt.Fprintln(w, "  init [--repo DIR] [--private]     create a repo: identity, config.yaml, datastore (--private: and swarm.key)")
	fmt.Fprintln(w, "  daemon [--repo DIR] [--listen MADDR]... [--bootstrap MADDR]... [--shell HOST:PORT] [--gateway HOST:PORT] [--no-mdns]")
	fmt.Fprintln(w, "                                    run a peer in the foreground (initialises the repo if missing)")
	names := make([]string, 0, len(clientCommands))
	for n := range clientCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %s\n", clientCommands[n].Usage)
	}
	fmt.Fprintln(w, "The repo is --repo, else $CAIRN_REPO, else ~/.cairn.")
}

// defaultRepo is $CAIRN_REPO, else ~/.cairn.
func defaultRepo() string {
	if r := os.Getenv("CAIRN_REPO"); r != "" {
		return r
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".cairn"
	}
	return filepath.Join(home, ".cairn")
}

func cmdInit(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	repo := fs.String("repo", defaultRepo(), "repo directory")
	private := fs.Bool("private", false, "also generate swarm.key: a private network only peers holding the same key can join")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := initRepo(*repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "initialised repo %s\npeer id: %s\n", *repo, id)
	if *private {
		if err := peer.GenerateSwarmKey(*repo); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "private network: %s written; copy it into every peer's repo (listening on TCP only)\n", filepath.Join(*repo, peer.SwarmKeyFile))
	}
	return nil
}

// initRepo writes identity and config, then creates the datastore by
// starting and stopping an offline node on it, so a repo that init
// reports as created is one a daemon can open.
func initRepo(dir string) (string, error) {
	id, err := peer.InitRepo(dir, defaultConfig)
	if err != nil {
		return "", err
	}
	if err := peer.CreateDatastore(dir); err != nil {
		return "", err
	}
	return id.String(), nil
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdDaemon(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	repo := fs.String("repo", defaultRepo(), "repo directory")
	var listen, bootstrap multiFlag
	fs.Var(&listen, "listen", "swarm multiaddr to listen on (repeatable; replaces swarm.listen)")
	fs.Var(&bootstrap, "bootstrap", "bootstrap peer multiaddr (repeatable; replaces discovery.bootstrap)")
	shellAddr := fs.String("shell", "", "HOST:PORT for the HTTP shell (replaces shell.address)")
	gatewayAddr := fs.String("gateway", "", "HOST:PORT for the HTTP gateway (replaces gateway.address)")
	noMDNS := fs.Bool("no-mdns", false, "switch mDNS off (discovery.mdns: false)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !peer.IsRepo(*repo) {
		if _, err := initRepo(*repo); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "initialised repo %s\n", *repo)
	}
	cfg, err := peer.LoadConfig(*repo)
	if err != nil {
		return err
	}
	if len(listen) > 0 {
		cfg.Swarm.Listen = listen
	}
	if len(bootstrap) > 0 {
		cfg.Discovery.Bootstrap = bootstrap
	}
	if *shellAddr != "" {
		cfg.Shell.Address = *shellAddr
	}
	if *gatewayAddr != "" {
		cfg.Gateway.Address = *gatewayAddr
	}
	if *noMDNS {
		cfg.Discovery.MDNS = false
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	level, _ := peer.ParseLogLevel(cfg.Log.Level)
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	if level > slog.LevelDebug {
		// boxo's provider logs every failed announcement at ERROR, which on
		// a node with no DHT peers yet is every add; the reprovider
		// announces the roots again once the DHT has peers (see
		// `cairn stats provide`), and log.level: debug shows them all.
		_ = golog.SetLogLevel("provider", "fatal")
	}
	return runDaemon(ctx, cfg, stdout)
}

func runDaemon(ctx context.Context, cfg peer.Config, stdout io.Writer) error {
	node, err := peer.New(ctx, cfg)
	if err != nil {
		return err
	}
	h := node.Host()
	fmt.Fprintf(stdout, "peer id: %s\n", h.ID())
	for _, a := range h.Addrs() {
		fmt.Fprintf(stdout, "swarm listening on %s/p2p/%s\n", a, h.ID())
	}
	fmt.Fprintf(stdout, "shell listening on %s\n", node.ShellAddr())
	fmt.Fprintf(stdout, "gateway listening on %s\n", node.GatewayAddr())
	fmt.Fprintln(stdout, "daemon is ready")
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	if err := node.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// parseFlags parses flags wherever they stand among the arguments and
// refuses stray positional ones.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: %s: unexpected argument %q", errUsage, fs.Name(), fs.Arg(0))
	}
	return nil
}
