package peer

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/cairnnet/cairn/shell"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultGatewayAddr is where the gateway listens by default, beside
// Kubo's 8080 in the way the other ports sit beside Kubo's.
const DefaultGatewayAddr = "127.0.0.1:8201"

// GatewayFile is the gateway's URL inside a repo while a daemon runs, as
// Kubo writes its own.
const GatewayFile = "gateway"

// GatewayConfig is where the node's HTTP gateway listens. The gateway has
// a port of its own, never the shell's: a page it serves must not have the
// origin of the API.
type GatewayConfig struct {
	Address string `yaml:"address"` // host:port; loopback unless shell.access_token is set
}

// validate checks the address as shell.address is checked; the gateway
// takes the shell's access token, so a gateway on a public interface needs
// one too (it fetches from the network for whoever asks).
func (c GatewayConfig) validate(sh ShellConfig) error {
	host, port, err := net.SplitHostPort(c.Address)
	if err != nil {
		return fmt.Errorf("gateway.address: %q is not host:port: %w", c.Address, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("gateway.address: port %q is not a number from 0 to 65535", port)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && ip == nil {
		return fmt.Errorf("gateway.address: %q is not an IP address or localhost", host)
	}
	if (ip == nil || !ip.IsLoopback()) && host != "localhost" && sh.AccessToken == "" {
		return fmt.Errorf("gateway.address: %s is not loopback; set shell.access_token to expose the gateway", c.Address)
	}
	if p != 0 && c.Address == sh.Address {
		return fmt.Errorf("gateway.address: %s is shell.address too; the gateway needs a port of its own", c.Address)
	}
	return nil
}

// startGateway listens first and publishes the gateway file only then, as
// startShell does for the api file.
func (n *Node) startGateway() error {
	cfg := n.cfg.Shell.Config
	src := shell.GatewaySource{Blocks: n.content.BlockService(), Prefetch: n.content.Prefetch, Metrics: n.metrics.reg}
	handler, err := shell.NewGateway(cfg, src)
	if err != nil {
		return fmt.Errorf("start gateway: %w", err)
	}
	if n.gateway, err = listen("gateway", n.cfg.Gateway.Address); err != nil {
		return err
	}
	n.gateway.serve(handler)
	if n.cfg.RepoDir != "" {
		return n.gateway.publish(filepath.Join(n.cfg.RepoDir, GatewayFile), n.GatewayURL())
	}
	return nil
}

// GatewayAddr is the multiaddr the HTTP gateway listens on.
func (n *Node) GatewayAddr() ma.Multiaddr { return n.gateway.addr }

// GatewayURL is the gateway's http://host:port. Files and pages are served
// on subdomains of localhost on that port, http://{cid}.ipfs.localhost:PORT/;
// a browser is redirected there from /ipfs/{cid} on this URL.
func (n *Node) GatewayURL() string { return "http://" + n.gateway.hostPort() }
