// Package cli is the cairn command line: it runs a Cairn peer and talks to
// a running one through its HTTP shell. The command tree is Kubo's (swarm,
// routing, block, dag, pin, repo, stats, config, bootstrap...), built on
// cobra: one file per command group.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cairnnet/cairn/peer"
)

// errUsage marks a command line that could not be understood (exit code 2).
var errUsage = errors.New("usage")

// errNoCommand is `cairn` alone: the help went to stderr, nothing more to say.
var errNoCommand = fmt.Errorf("%w: no command", errUsage)

// usagef is a usage error: exit code 2.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// Run executes one command line and returns the exit code: 0 on success,
// 1 when the command failed, 2 when it could not be understood. config is
// the documented config.yaml, copied into new repos (main embeds it: a
// go:embed cannot reach a parent directory).
func Run(args []string, stdout, stderr io.Writer, config []byte) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr, config)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, config []byte) int {
	root := newRoot(config)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	// Errors before a command runs (flags, arguments, unknown commands)
	// are usage errors; once it runs, only those it says so are.
	started := false
	root.PersistentPreRun = func(*cobra.Command, []string) { started = true }
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errNoCommand):
		return 2
	}
	fmt.Fprintf(stderr, "cairn: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	if started && !errors.Is(err, errUsage) {
		return 1
	}
	return 2
}

// Command groups of the top-level help, as Kubo's.
const (
	groupBasic   = "basic"
	groupData    = "data"
	groupAdvance = "advanced"
	groupNetwork = "network"
	groupTool    = "tool"
)

// newRoot builds the whole command tree.
func newRoot(config []byte) *cobra.Command {
	root := &cobra.Command{
		Use:   "cairn",
		Short: "Cairn: a peer-to-peer content network node that speaks IPFS",
		Long: `Cairn runs a peer of a content-addressed network (libp2p, Kademlia DHT,
Bitswap, UnixFS) and talks to a running one through its HTTP shell, a
subset of Kubo's RPC API. The commands follow Kubo's: ` + "`ipfs X`" + ` is ` + "`cairn X`" + `.

Client commands find the daemon through <repo>/api (--repo, else
$CAIRN_REPO, else ~/.cairn) or --api; set $CAIRN_API_TOKEN when the shell
has an access_token.`,
		Version:       peer.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(cmd.ErrOrStderr())
			if err := cmd.Help(); err != nil {
				return err
			}
			return errNoCommand
		},
	}
	root.SetVersionTemplate("cairn version {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v (see `%s -h`)", commandName(c), err, c.CommandPath())
	})
	root.AddGroup(
		&cobra.Group{ID: groupBasic, Title: "Basic commands:"},
		&cobra.Group{ID: groupData, Title: "Data structure commands:"},
		&cobra.Group{ID: groupAdvance, Title: "Advanced commands:"},
		&cobra.Group{ID: groupNetwork, Title: "Network commands:"},
		&cobra.Group{ID: groupTool, Title: "Tool commands:"},
	)
	root.SetHelpCommand(newHelpCmd())
	root.SetHelpCommandGroupID(groupTool)
	root.SetCompletionCommandGroupID(groupTool)
	for _, group := range [][]*cobra.Command{
		inGroup(groupBasic, newInitCmd(config), newAddCmd(), newCatCmd(), newGetCmd(), newLsCmd(), newStatusCmd()),
		inGroup(groupData, newBlockCmd(), newDagCmd(), newPinCmd()),
		inGroup(groupAdvance, newDaemonCmd(config), newShutdownCmd(), newRepoCmd(), newStatsCmd()),
		inGroup(groupNetwork, newIDCmd(), newBootstrapCmd(), newSwarmCmd(), newRoutingCmd()),
		inGroup(groupTool, newConfigCmd(), newVersionCmd(), newLogCmd()),
		oldNames(),
	} {
		root.AddCommand(group...)
	}
	root.SetGlobalNormalizationFunc(kuboFlagNames)
	return root
}

// inGroup puts commands in a group of the top-level help.
func inGroup(id string, cmds ...*cobra.Command) []*cobra.Command {
	for _, c := range cmds {
		c.GroupID = id
	}
	return cmds
}

// kuboFlagNames lets Kubo's spellings of shared flags stand for Cairn's.
func kuboFlagNames(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	switch name {
	case "encoding":
		name = "enc"
	case "repo-dir":
		name = "repo"
	}
	return pflag.NormalizedName(name)
}

// newHelpCmd is `cairn help [command]`; an unknown topic is a usage error,
// where cobra's own help command prints the usage and exits 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Show the help of any command",
		Long:  "Show the help of any command: `cairn help pin add` is `cairn pin add -h`.",
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usagef("no help topic %q (see `cairn help`)", strings.Join(args, " "))
			}
			// Flags cobra adds only when a command runs, so that the help
			// lists them as -h does.
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// commandName is a command's path without "cairn ", for messages.
func commandName(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s: unexpected argument %q (see `%s -h`)", commandName(cmd), args[0], cmd.CommandPath())
	}
	return nil
}

// exactArgs wants n arguments, described as what ("one CID").
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s, got %d arguments (see `%s -h`)", commandName(cmd), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// minArgs wants at least n arguments, described as what.
func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s takes %s (see `%s -h`)", commandName(cmd), what, cmd.CommandPath())
		}
		return nil
	}
}

// newGroupCmd is a command that only holds subcommands (pin, repo...):
// alone or with an unknown subcommand it is a usage error naming them.
func newGroupCmd(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q for %q (see `%s -h`)", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			names := make([]string, 0, len(subs))
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			return usagef("%s needs a subcommand: %s (see `%s -h`)", commandName(cmd), strings.Join(names, ", "), cmd.CommandPath())
		},
	}
	cmd.AddCommand(subs...)
	return cmd
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

// repoFlag registers --repo on cmd; "" means defaultRepo, resolved when
// the command runs (so that help does not print the user's home).
func repoFlag(cmd *cobra.Command, repo *string, what string) {
	cmd.Flags().StringVar(repo, "repo", "", what+" (default $CAIRN_REPO, else ~/.cairn)")
}

// repoOr is dir, or the default repo when dir is "".
func repoOr(dir string) string {
	if dir == "" {
		return defaultRepo()
	}
	return dir
}
