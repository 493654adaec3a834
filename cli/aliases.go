package cli

import "github.com/spf13/cobra"

// oldNames are Cairn's names from before the Kubo tree, kept as hidden
// commands: `cairn peers` is `cairn swarm peers`. The old `cairn routing`
// (the routing tables) is now `cairn stats dht`: `routing` is Kubo's group.
func oldNames() []*cobra.Command {
	return []*cobra.Command{
		hidden(newSwarmPeersCmd("peers"), "swarm peers"),
		hidden(newSwarmConnectCmd("connect"), "swarm connect"),
		hidden(newSwarmAddrsCmd("addrs"), "swarm addrs"),
		hidden(newFindProvsCmd("findprovs"), "routing findprovs"),
	}
}

// hidden keeps cmd out of the top-level help, and says in its own what
// it is now called.
func hidden(cmd *cobra.Command, now string) *cobra.Command {
	cmd.Hidden = true
	cmd.Short += " (old name of `cairn " + now + "`)"
	return cmd
}
