package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
)

// Config commands edit <repo>/config.yaml directly, whether or not a
// daemon runs on it (it reads the file only at start); with --api they go
// through that daemon's shell instead, as Kubo's config RPC.

// configOpts are the flags of the config commands.
type configOpts struct {
	*clientOpts
	asJSON, asBool bool
}

func newConfigCmd() *cobra.Command {
	var o configOpts
	cmd := &cobra.Command{
		Use:   "config [KEY [VALUE]]",
		Short: "Show, get and set config.yaml values",
		Long: `Show, get and set the values of <repo>/config.yaml by dotted key
(discovery.mdns, swarm.listen), as Kubo's ipfs config: ` + "`cairn config KEY`" + `
gets, ` + "`cairn config KEY VALUE`" + ` sets. Edits keep the file's comments, and
are checked as the daemon would check them at start before anything is
written. A running daemon applies them when restarted.

With --api the command goes to that daemon's shell, which edits its own
repo's file and never shows or changes shell.access_token.`,
		Example: `  cairn config show
  cairn config get connections
  cairn config set discovery.mdns false
  cairn config set swarm.listen '[/ip4/0.0.0.0/tcp/4201]'
  cairn config profile apply server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usagef("config takes show, get KEY, set KEY VALUE or profile apply NAME (see `cairn config -h`)")
			}
			return nil
		},
	}
	o.clientOpts = configFlags(cmd, &o)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			return o.get(cmd.Context(), args[0], cmd.OutOrStdout())
		}
		return o.set(cmd.Context(), args[0], args[1], cmd)
	}
	cmd.AddCommand(newConfigShowCmd(), newConfigGetCmd(), newConfigSetCmd(), newConfigProfileCmd())
	return cmd
}

// configFlags registers the client flags, --enc, and --json and --bool for
// the value's type.
func configFlags(cmd *cobra.Command, o *configOpts) *clientOpts {
	co := printingFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "the value is JSON (Kubo's flag; YAML, which includes JSON, is read anyway)")
	cmd.Flags().BoolVar(&o.asBool, "bool", false, "the value is true or false")
	return co
}

func newConfigShowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the whole config as JSON",
		Long:  `Print the whole config (the file over the defaults) as JSON, as Kubo's config show; shell.access_token is left out.`,
		Args:  noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		values, err := o.configValues(cmd.Context())
		if err != nil {
			return err
		}
		if sh, ok := values["shell"].(map[string]any); ok {
			delete(sh, "access_token")
		}
		return printHuman(cmd.OutOrStdout(), values)
	}
	return cmd
}

func newConfigGetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get KEY",
		Short: "Print one value or section",
		Long:  `Print the value at a dotted key: a string as it is, anything else (numbers, lists, sections) as JSON.`,
		Args:  exactArgs(1, "one KEY"),
	}
	var o configOpts
	o.clientOpts = printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return o.get(cmd.Context(), args[0], cmd.OutOrStdout())
	}
	return cmd
}

func newConfigSetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Set one value, keeping the file's comments",
		Long: `Set the value at a dotted key. VALUE is read as YAML (so JSON works
too): false, 20, 30s, [a, b]; a key that holds a string takes VALUE as
it is. The whole file is checked before it is written.`,
		Args: exactArgs(2, "a KEY and a VALUE"),
	}
	var o configOpts
	o.clientOpts = configFlags(cmd, &o)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return o.set(cmd.Context(), args[0], args[1], cmd)
	}
	return cmd
}

func (o *configOpts) get(ctx context.Context, key string, out io.Writer) error {
	values, err := o.configValues(ctx)
	if err != nil {
		return err
	}
	if _, err := peer.ConfigValue(peer.DefaultConfig(), key); err != nil {
		return err
	}
	var v any = values
	for _, part := range strings.Split(key, ".") {
		m, _ := v.(map[string]any)
		v = m[part]
	}
	if asJSON, _ := o.json(); asJSON {
		return json.NewEncoder(out).Encode(struct {
			Key   string
			Value any
		}{key, v})
	}
	return printHuman(out, v)
}

func (o *configOpts) set(ctx context.Context, key, value string, cmd *cobra.Command) error {
	if _, err := o.json(); err != nil {
		return err
	}
	if o.asBool && value != "true" && value != "false" {
		return usagef("config: with --bool the value must be true or false, not %q", value)
	}
	if o.api != "" {
		c, err := o.connect(o.timeout)
		if err != nil {
			return err
		}
		if _, err := c.ConfigSet(ctx, key, value, o.asJSON || o.asBool); err != nil {
			return explain(err)
		}
	} else if _, err := peer.SetConfig(repoOr(o.repo), peer.ConfigSetting{Key: key, Text: value, JSON: o.asJSON}); err != nil {
		return err
	}
	o.restartNote(cmd.ErrOrStderr())
	return nil
}

// restartNote says, when a daemon runs, that it must restart to see the
// change.
func (o *clientOpts) restartNote(w io.Writer) {
	if o.daemonRunning() {
		fmt.Fprintln(w, "cairn: config.yaml changed; restart the daemon to apply it")
	}
}

// configValues is the config, from the daemon's shell with --api, else
// from the repo's file.
func (o *clientOpts) configValues(ctx context.Context) (map[string]any, error) {
	if _, err := o.json(); err != nil {
		return nil, err
	}
	if o.api != "" {
		c, err := o.connect(o.timeout)
		if err != nil {
			return nil, err
		}
		values, err := c.ConfigShow(ctx)
		return values, explain(err)
	}
	cfg, err := peer.LoadConfig(repoOr(o.repo))
	if err != nil {
		return nil, err
	}
	return peer.ConfigValues(cfg)
}

// printHuman prints a config value as Kubo does: a string as it is,
// anything else as indented JSON.
func printHuman(out io.Writer, v any) error {
	if s, ok := v.(string); ok {
		_, err := fmt.Fprintln(out, s)
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

func newConfigProfileCmd() *cobra.Command {
	return newGroupCmd("profile", "Apply configuration profiles",
		`Configuration profiles, as Kubo's: named sets of changes.
`+profileHelp(), newConfigProfileApplyCmd())
}

func newConfigProfileApplyCmd() *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "apply NAME[,NAME...]",
		Short: "Apply profiles to config.yaml, keeping its comments",
		Long: `Apply profiles, in order, to config.yaml, keeping its comments; the
keys each changes are listed under ` + "`cairn init -h`" + `.`,
		Args: exactArgs(1, "profile names, comma-separated"),
	}
	o := clientFlags(cmd, defaultClientTimeout)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the config the profiles would make, writing nothing")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		names, err := profileNames(args[0])
		if err != nil {
			return err
		}
		after, err := applyProfiles(cmd.Context(), o, names, dryRun)
		if err != nil {
			return err
		}
		if dryRun {
			return printHuman(cmd.OutOrStdout(), after)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "applied profile %s\n", args[0])
		o.restartNote(cmd.ErrOrStderr())
		return nil
	}
	return cmd
}

// applyProfiles applies names through the daemon with --api, else to the
// repo's file, and returns the config after.
func applyProfiles(ctx context.Context, o *clientOpts, names []string, dryRun bool) (map[string]any, error) {
	if o.api != "" {
		c, err := o.connect(o.timeout)
		if err != nil {
			return nil, err
		}
		_, after, err := c.ConfigProfileApply(ctx, strings.Join(names, ","), dryRun)
		return after, explain(err)
	}
	repo := repoOr(o.repo)
	apply := peer.ApplyProfilesToRepo
	if dryRun {
		apply = peer.DryRunProfiles
	}
	cfg, err := apply(repo, names...)
	if err != nil {
		return nil, err
	}
	return peer.ConfigValues(cfg)
}
