package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
	"github.com/cairnnet/cairn/shell/client"
)

func newIDCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "id",
		Short: "Show the daemon's peer ID, addresses and protocols",
		Long: `Show the daemon's peer ID, public key, addresses, agent and protocols,
as JSON in the shape of Kubo's ipfs id, with Cairn's Reachability
(public, private or unknown) added.`,
		Args: noArgs,
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, out io.Writer) error {
		id, err := c.ID(ctx)
		if err != nil {
			return err
		}
		// Printed as Kubo's `ipfs id` prints it, --enc or not.
		v := struct {
			ID           string
			PublicKey    string
			Addresses    []string
			AgentVersion string
			Protocols    []string
			Reachability string `json:",omitempty"` // Cairn's addition: public, private or unknown
		}{id.ID.String(), id.PublicKey, make([]string, 0, len(id.Addresses)), id.AgentVersion, id.Protocols, id.Reachability}
		for _, a := range id.Addresses {
			v.Addresses = append(v.Addresses, a.String())
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "\t")
		return enc.Encode(v)
	})
	return cmd
}

// versionInfo is Kubo's version output, of this binary.
type versionInfo struct {
	Version string
	Commit  string
	Repo    string
	System  string
	Golang  string
}

// localVersion describes this binary: the commit is the build's VCS
// revision, when it was built from a checkout.
func localVersion() versionInfo {
	v := versionInfo{Version: peer.Version, Repo: peer.RepoVersion, System: runtime.GOARCH + "/" + runtime.GOOS, Golang: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				v.Commit = s.Value[:7]
			}
		}
	}
	return v
}

// newVersionCmd answers from the binary itself, as Kubo's does: no daemon
// needed.
func newVersionCmd() *cobra.Command {
	var all, number, commit bool
	var enc string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show this binary's version; no daemon needed",
		Long: `Show the version of this cairn binary (the daemon's is in
` + "`cairn id`" + `'s AgentVersion). --all adds the commit, repo layout, system and
Go versions.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printVersion(cmd.OutOrStdout(), localVersion(), enc, all, number, commit)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "show commit, repo, system and Go versions too")
	f.BoolVarP(&number, "number", "n", false, "show only the version number")
	f.BoolVar(&commit, "commit", false, "append the commit to the version number")
	f.StringVar(&enc, "enc", "text", "output encoding: text or json")
	// Kubo's global options, which scripts pass to every command; version
	// needs none of them, and ignores them as Kubo's does.
	var ignored clientOpts
	f.StringVar(&ignored.api, "api", "", "")
	f.StringVar(&ignored.repo, "repo", "", "")
	f.DurationVar(&ignored.timeout, "timeout", 0, "")
	for _, name := range []string{"api", "repo", "timeout"} {
		_ = f.MarkHidden(name)
	}
	return cmd
}

func printVersion(out io.Writer, v versionInfo, enc string, all, number, commit bool) error {
	switch enc {
	case "json":
		return json.NewEncoder(out).Encode(v)
	case "text", "":
	default:
		return usagef("version: --enc takes text or json, not %q", enc)
	}
	version := v.Version
	if (commit || all) && v.Commit != "" {
		version += "-" + v.Commit
	}
	var err error
	switch {
	case all:
		_, err = fmt.Fprintf(out, "Cairn version: %s\nRepo version: %s\nSystem version: %s\nGolang version: %s\n",
			version, v.Repo, v.System, v.Golang)
	case number:
		_, err = fmt.Fprintln(out, version)
	default:
		_, err = fmt.Fprintf(out, "cairn version %s\n", version)
	}
	return err
}

func newShutdownCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "shutdown",
		Short: "Stop the running daemon",
		Long:  `Ask the running daemon to stop, as Ctrl-C would: it answers, then closes cleanly (the api file goes with it).`,
		Args:  noArgs,
	}
	o := clientFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, _ []string, _ io.Writer) error {
		return c.Shutdown(ctx)
	})
	return cmd
}
