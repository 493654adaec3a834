package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
)

func newInitCmd(config []byte) *cobra.Command {
	var repo, profiles string
	var private bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repo: identity, config.yaml, datastore",
		Long: `Create a repo: a fresh peer identity (Ed25519), the documented
config.yaml and an empty datastore. A repo that is already there is left
alone.

--profile applies configuration profiles to the new config.yaml, in
order, keeping its comments (see ` + "`cairn config profile apply`" + `):
` + profileHelp(),
		Example: `  cairn init
  cairn init --repo /srv/cairn --profile server
  cairn init --profile test,randomports`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := profileNames(profiles)
			if err != nil {
				return err
			}
			dir := repoOr(repo)
			id, err := initRepo(dir, config, names)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "initialised repo %s\npeer id: %s\n", dir, id)
			if len(names) > 0 {
				fmt.Fprintf(out, "applied profile %s\n", strings.Join(names, ","))
			}
			if private {
				if err := peer.GenerateSwarmKey(dir); err != nil {
					return err
				}
				fmt.Fprintf(out, "private network: %s written; copy it into every peer's repo (listening on TCP only)\n", filepath.Join(dir, peer.SwarmKeyFile))
			}
			return nil
		},
	}
	repoFlag(cmd, &repo, "repo directory to create")
	cmd.Flags().StringVarP(&profiles, "profile", "p", "", "apply these configuration profiles, comma-separated: "+strings.Join(peer.ProfileNames(), ", "))
	cmd.Flags().BoolVar(&private, "private", false, "also generate swarm.key: a private network only peers holding the same key can join")
	return cmd
}

// profileNames splits --profile's comma-separated list and checks each
// name before anything is written.
func profileNames(list string) ([]string, error) {
	if list == "" {
		return nil, nil
	}
	names := strings.Split(list, ",")
	for _, n := range names {
		if _, ok := peer.LookupProfile(n); !ok {
			return nil, usagef("unknown profile %q (known: %s)", n, strings.Join(peer.ProfileNames(), ", "))
		}
	}
	return names, nil
}

// profileHelp lists the profiles, one line each.
func profileHelp() string {
	var b strings.Builder
	for _, n := range peer.ProfileNames() {
		p, _ := peer.LookupProfile(n)
		fmt.Fprintf(&b, "  %-12s %s\n", n, p.Description)
	}
	return b.String()
}

// initRepo writes identity and config (with the profiles applied), then
// creates the datastore, so a repo that init reports as created is one a
// daemon can open.
func initRepo(dir string, config []byte, profiles []string) (string, error) {
	if len(profiles) > 0 {
		var err error
		if config, err = peer.ApplyProfiles(config, profiles...); err != nil {
			return "", err
		}
	}
	id, err := peer.InitRepo(dir, config)
	if err != nil {
		return "", err
	}
	if err := peer.CreateDatastore(dir); err != nil {
		return "", err
	}
	return id.String(), nil
}
