package daemonproc

import "strings"

// Cairn collects what `cairn daemon` prints on stdout as it starts (see
// runDaemon in main.go). Its Line method is an onLine for Start; read the
// fields once WaitReady has returned nil.
type Cairn struct {
	ID      string   // the peer ID
	Swarm   []string // listen multiaddrs ending in /p2p/<ID>, in the order printed
	Shell   string   // the shell's address, a multiaddr /ip4/H/tcp/P
	Gateway string   // the gateway's address, a multiaddr /ip4/H/tcp/P
}

// Line records one line and reports whether it says the daemon is ready.
func (c *Cairn) Line(line string) (ready bool) {
	if v, ok := strings.CutPrefix(line, "peer id: "); ok {
		c.ID = v
	} else if v, ok := strings.CutPrefix(line, "swarm listening on "); ok {
		c.Swarm = append(c.Swarm, v)
	} else if v, ok := strings.CutPrefix(line, "shell listening on "); ok {
		c.Shell = v
	} else if v, ok := strings.CutPrefix(line, "gateway listening on "); ok {
		c.Gateway = v
	}
	return line == "daemon is ready"
}

// Kubo collects the addresses Kubo's `ipfs daemon` prints on stdout as it
// starts. Its Line method is an onLine for Start; read the fields once
// WaitReady has returned nil.
type Kubo struct {
	API     string // the RPC API's multiaddr
	Gateway string // the gateway's multiaddr
}

// Line records one line and reports whether it says the daemon is ready.
func (k *Kubo) Line(line string) (ready bool) {
	if v, ok := strings.CutPrefix(line, "RPC API server listening on "); ok {
		k.API = v
	} else if v, ok := strings.CutPrefix(line, "Gateway server listening on "); ok {
		k.Gateway = v
	}
	return line == "Daemon is ready"
}
