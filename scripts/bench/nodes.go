package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// node is a running daemon of either kind, as the fetch and serve
// measurements see it: an RPC endpoint, a swarm address and a pid.
type node interface {
	// rpcURL is the daemon's HTTP API as http://host:port.
	rpcURL() string
	// gatewayURL is where it serves /ipfs/ as http://host:port.
	gatewayURL() string
	// swarmAddr is a loopback TCP multiaddr ending in /p2p/<id>.
	swarmAddr() string
	pid() int
	Close() error
}

// rpcClient bounds the short RPC calls (connect, id); content transfers
// use their own context instead.
var rpcClient = &http.Client{Timeout: 60 * time.Second}

// connect asks from to dial to through the Kubo-shaped swarm/connect,
// which both daemons serve and which returns once the connection is up.
func connect(ctx context.Context, from, to node) error {
	u := from.rpcURL() + "/api/v0/swarm/connect?arg=" + url.QueryEscape(to.swarmAddr())
	return rpcPost(ctx, u, nil)
}

// rpcPost POSTs u with no body and decodes a 200's JSON into out (if not
// nil).
func rpcPost(ctx context.Context, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	resp, err := rpcClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("POST %s: %w", u, err)
	}
	return nil
}

// hostPort turns /ip4/H/tcp/P[/...] into H:P.
func hostPort(maddr string) (string, error) {
	parts := strings.Split(strings.TrimPrefix(maddr, "/"), "/")
	if len(parts) < 4 || parts[0] != "ip4" || parts[2] != "tcp" {
		return "", fmt.Errorf("cannot turn %q into host:port", maddr)
	}
	return parts[1] + ":" + parts[3], nil
}
