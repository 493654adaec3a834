package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	golog "github.com/ipfs/go-log/v2"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/internal/loglevel"
	"github.com/cairnnet/cairn/peer"
)

// daemonOpts are the daemon's flags, each overriding a config key.
type daemonOpts struct {
	repo, shell       string
	gateway           string
	listen, bootstrap []string
	noMDNS            bool
	profiles          string
}

func newDaemonCmd(config []byte) *cobra.Command {
	var o daemonOpts
	cmd := &cobra.Command{
		Use:   "daemon",
		Short: "Run a peer in the foreground",
		Long: `Run a peer in the foreground until interrupted (Ctrl-C, SIGTERM) or
told to stop (` + "`cairn shutdown`" + `). The repo is created first if it is
missing (with --init-profile's profiles). The flags override config.yaml
for this run only.

The daemon prints its peer ID, its swarm, shell and gateway addresses, then
"daemon is ready"; clients find its shell through <repo>/api.`,
		Example: `  cairn daemon
  cairn daemon --repo /tmp/a --listen /ip4/127.0.0.1/tcp/0 --shell 127.0.0.1:0 --no-mdns
  cairn daemon --bootstrap /ip4/192.0.2.7/tcp/4201/p2p/12D3KooW...`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDaemonCmd(cmd.Context(), o, config, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	repoFlag(cmd, &o.repo, "repo directory")
	f.StringArrayVar(&o.listen, "listen", nil, "swarm multiaddr to listen on (repeatable; replaces swarm.listen)")
	f.StringArrayVar(&o.bootstrap, "bootstrap", nil, "bootstrap peer multiaddr (repeatable; replaces discovery.bootstrap)")
	f.StringVar(&o.shell, "shell", "", "HOST:PORT for the HTTP shell (replaces shell.address)")
	f.StringVar(&o.gateway, "gateway", "", "HOST:PORT for the HTTP gateway (replaces gateway.address)")
	f.BoolVar(&o.noMDNS, "no-mdns", false, "switch mDNS off (discovery.mdns: false)")
	f.StringVar(&o.profiles, "init-profile", "", "profiles to apply if the repo is created now (see `cairn init -h`)")
	return cmd
}

func runDaemonCmd(ctx context.Context, o daemonOpts, config []byte, stdout io.Writer) error {
	repo := repoOr(o.repo)
	if !peer.IsRepo(repo) {
		names, err := profileNames(o.profiles)
		if err != nil {
			return err
		}
		if _, err := initRepo(repo, config, names); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "initialised repo %s\n", repo)
	}
	cfg, err := peer.LoadConfig(repo)
	if err != nil {
		return err
	}
	if len(o.listen) > 0 {
		cfg.Swarm.Listen = o.listen
	}
	if len(o.bootstrap) > 0 {
		cfg.Discovery.Bootstrap = o.bootstrap
	}
	if o.shell != "" {
		cfg.Shell.Address = o.shell
	}
	if o.gateway != "" {
		cfg.Gateway.Address = o.gateway
	}
	if o.noMDNS {
		cfg.Discovery.MDNS = false
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	level, _ := peer.ParseLogLevel(cfg.Log.Level)
	// Levels per subsystem, changed at run time by `cairn log level`.
	loglevel.Install(os.Stderr, level)
	if level > slog.LevelDebug {
		// boxo's provider logs every failed announcement at ERROR, which on
		// a node with no DHT peers yet is every add; the reprovider
		// announces the roots again once the DHT has peers (see
		// `cairn stats provide`), and log.level: debug shows them all.
		_ = golog.SetLogLevel("provider", "fatal")
	}
	return runDaemon(ctx, cfg, stdout)
}

// runDaemon runs a node until ctx ends or a client asks it to shut down.
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
	select {
	case <-ctx.Done():
	case <-node.ShutdownRequested():
	}
	fmt.Fprintln(stdout, "shutting down")
	if err := node.Close(); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
