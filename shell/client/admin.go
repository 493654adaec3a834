package client

import (
	"context"
	"net/url"
	"strconv"

	ma "github.com/multiformats/go-multiaddr"
)

// ConfigShow returns the daemon's whole config (from its config.yaml,
// over the defaults), as Kubo's config/show; the shell's access token is
// left out.
func (c *Client) ConfigShow(ctx context.Context) (map[string]any, error) {
	resp, err := c.call(ctx, "config/show", nil, nil, "")
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, readJSON(resp, &out)
}

// ConfigGet returns the value at a dotted key (discovery.mdns).
func (c *Client) ConfigGet(ctx context.Context, key string) (any, error) {
	return c.config(ctx, url.Values{"arg": {key}})
}

// ConfigSet sets a dotted key to value, as YAML (or, with asJSON, as
// JSON; taken as is for a key holding a string), in the daemon's
// config.yaml, and returns the value now there. The daemon applies it at
// its next start.
func (c *Client) ConfigSet(ctx context.Context, key, value string, asJSON bool) (any, error) {
	return c.config(ctx, url.Values{"arg": {key, value}, "json": {strconv.FormatBool(asJSON)}})
}

func (c *Client) config(ctx context.Context, q url.Values) (any, error) {
	resp, err := c.call(ctx, "config", q, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct {
		Key   string
		Value any
	}
	return out.Value, readJSON(resp, &out)
}

// ConfigProfileApply applies comma-separated profiles to the daemon's
// config.yaml (or, with dryRun, only says what they would make of it) and
// returns the config before and after.
func (c *Client) ConfigProfileApply(ctx context.Context, names string, dryRun bool) (before, after map[string]any, err error) {
	resp, err := c.call(ctx, "config/profile/apply", url.Values{"arg": {names}, "dry-run": {strconv.FormatBool(dryRun)}}, nil, "")
	if err != nil {
		return nil, nil, err
	}
	var out struct{ OldCfg, NewCfg map[string]any }
	err = readJSON(resp, &out)
	return out.OldCfg, out.NewCfg, err
}

// BootstrapList returns the daemon's bootstrap peers.
func (c *Client) BootstrapList(ctx context.Context) ([]string, error) {
	return c.bootstrap(ctx, "bootstrap/list", nil)
}

// BootstrapAdd adds bootstrap peers and returns those not there before.
func (c *Client) BootstrapAdd(ctx context.Context, addrs ...ma.Multiaddr) ([]string, error) {
	return c.bootstrap(ctx, "bootstrap/add", addrValues(addrs))
}

// BootstrapRm removes bootstrap peers (all of them with all) and returns
// those removed.
func (c *Client) BootstrapRm(ctx context.Context, all bool, addrs ...ma.Multiaddr) ([]string, error) {
	q := addrValues(addrs)
	q.Set("all", strconv.FormatBool(all))
	return c.bootstrap(ctx, "bootstrap/rm", q)
}

func (c *Client) bootstrap(ctx context.Context, cmd string, q url.Values) ([]string, error) {
	resp, err := c.call(ctx, cmd, q, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct{ Peers []string }
	return out.Peers, readJSON(resp, &out)
}

func addrValues(addrs []ma.Multiaddr) url.Values {
	q := url.Values{}
	for _, a := range addrs {
		q.Add("arg", a.String())
	}
	return q
}

// Shutdown asks the daemon to stop; it answers first.
func (c *Client) Shutdown(ctx context.Context) error {
	resp, err := c.call(ctx, "shutdown", nil, nil, "")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
