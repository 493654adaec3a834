package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
	"github.com/cairnnet/cairn/shell/client"
)

// Default --timeout of the client commands. add has none: a big file may
// rightly take long. Commands answered by the node itself or by a bounded
// network search get a minute.
const (
	defaultClientTimeout = time.Minute
	// fetchFindTimeout bounds how long cat and get wait for the daemon to
	// find content when --timeout is not given. Once bytes flow there is no
	// limit, since a large file may rightly take longer than any guess.
	fetchFindTimeout = 2 * time.Minute
)

// clientOpts are the flags of a command that talks to the daemon: --api,
// --repo and --timeout, and --enc on those that print.
type clientOpts struct {
	cmd     *cobra.Command
	api     string
	repo    string
	timeout time.Duration
	enc     string
}

// clientFlags registers the client flags on cmd, --timeout defaulting to
// timeout (0: none).
func clientFlags(cmd *cobra.Command, timeout time.Duration) *clientOpts {
	o := &clientOpts{cmd: cmd}
	f := cmd.Flags()
	f.StringVar(&o.api, "api", "", "the daemon's shell, as a multiaddr or http://host:port (default: read <repo>/api)")
	repoFlag(cmd, &o.repo, "repo of the daemon to talk to")
	f.DurationVar(&o.timeout, "timeout", timeout, "give up after this long; 0 waits for ever")
	return o
}

// printingFlags is clientFlags plus --enc, for commands whose output is
// text or, as Kubo's --enc=json prints it, the shell's JSON.
func printingFlags(cmd *cobra.Command, timeout time.Duration) *clientOpts {
	o := clientFlags(cmd, timeout)
	cmd.Flags().StringVar(&o.enc, "enc", "text", "output encoding: text, or json (the shell's JSON, as Kubo prints it)")
	return o
}

// json reports whether --enc=json was asked for, refusing unknown encodings.
func (o *clientOpts) json() (bool, error) {
	switch o.enc {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usagef("%s: --enc takes text or json, not %q", commandName(o.cmd), o.enc)
}

// given reports whether the flag was set on the command line.
func (o *clientOpts) given(name string) bool { return o.cmd.Flags().Changed(name) }

// run is a RunE that checks --enc, connects with the command's timeout and
// hands f the client; the errors a user can act on are explained.
func (o *clientOpts) run(f func(ctx context.Context, c *client.Client, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if _, err := o.json(); err != nil {
			return err
		}
		c, err := o.connect(o.timeout)
		if err != nil {
			return err
		}
		return explain(f(cmd.Context(), c, args, cmd.OutOrStdout()))
	}
}

// connect returns a client of the daemon, bounding requests by timeout.
func (o *clientOpts) connect(timeout time.Duration) (*client.Client, error) {
	addr := o.api
	if addr == "" {
		var err error
		if addr, err = readAPIFile(repoOr(o.repo)); err != nil {
			return nil, err
		}
	}
	opts := []client.Option{client.WithTimeout(timeout)}
	if tok := os.Getenv("CAIRN_API_TOKEN"); tok != "" {
		opts = append(opts, client.WithToken(tok))
	}
	return client.New(addr, opts...)
}

// daemonRunning reports whether a daemon's shell is there to ask: --api
// was given or the repo has an api file.
func (o *clientOpts) daemonRunning() bool {
	if o.api != "" {
		return true
	}
	_, err := os.Stat(filepath.Join(repoOr(o.repo), peer.APIFile))
	return err == nil
}

// printJSON copies the shell's answer to cmd with q to out: what Kubo's
// CLI prints with --enc=json.
func printJSON(ctx context.Context, c *client.Client, cmd string, q url.Values, out io.Writer) error {
	body, err := c.Call(ctx, cmd, q)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(out, body)
	return err
}

// readAPIFile reads the shell address a running daemon publishes.
func readAPIFile(repo string) (string, error) {
	path := filepath.Join(repo, peer.APIFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("no running daemon: %s not found (start one with `cairn daemon --repo %s`, or pass --api)", path, repo)
	}
	if err != nil {
		return "", fmt.Errorf("reading the daemon's address: %w", err)
	}
	return strings.TrimSpace(string(data)), nil
}

// explain rewrites the errors a user can act on.
func explain(err error) error {
	var unreachable *client.UnreachableError
	var shellErr *client.Error
	switch {
	case errors.As(err, &unreachable):
		return fmt.Errorf("no running daemon: cannot reach %s (start one with `cairn daemon`)", unreachable.Addr)
	case errors.As(err, &shellErr) && shellErr.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%w (set $CAIRN_API_TOKEN to the shell's access_token)", err)
	}
	return err
}

// parseCID accepts a CID or /ipfs/<CID>, refusing anything else before a
// request is made.
func parseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(strings.TrimPrefix(s, "/ipfs/"))
	if err != nil {
		return cid.Undef, fmt.Errorf("invalid CID %q: %w", s, err)
	}
	return c, nil
}

// cidList parses CID arguments.
func cidList(args []string) ([]cid.Cid, error) {
	ids := make([]cid.Cid, len(args))
	for i, s := range args {
		id, err := parseCID(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

// argValues is the query naming each of args as an "arg" value.
func argValues(args ...string) url.Values {
	return url.Values{"arg": args}
}

// fetch opens a download. With --timeout, the whole request is bounded by
// it; without, only the wait for the daemon to find the content is.
func (o *clientOpts) fetch(ctx context.Context, id cid.Cid, open func(context.Context, *client.Client) (io.ReadCloser, error)) (io.ReadCloser, error) {
	if o.given("timeout") {
		c, err := o.connect(o.timeout)
		if err != nil {
			return nil, err
		}
		return open(ctx, c)
	}
	c, err := o.connect(0)
	if err != nil {
		return nil, err
	}
	return openWithin(ctx, fetchFindTimeout, id, func(ctx context.Context) (io.ReadCloser, error) { return open(ctx, c) })
}

// openWithin gives open up to d to answer. The shell answers a fetch only
// once it has found the content, so this bounds the search without
// bounding the transfer that follows.
func openWithin(ctx context.Context, d time.Duration, id cid.Cid, open func(context.Context) (io.ReadCloser, error)) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(d, func() {
		cancel(fmt.Errorf("content %s not found within %s (pass a longer --timeout to wait more)", id, d))
	})
	rc, err := open(ctx)
	if !timer.Stop() {
		if err == nil {
			rc.Close()
		}
		return nil, context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		return nil, err
	}
	return &closeCancel{ReadCloser: rc, cancel: cancel}, nil
}

// closeCancel releases the request's context with its body.
type closeCancel struct {
	io.ReadCloser
	cancel context.CancelCauseFunc
}

// Close closes the body, then ends the request's context.
func (c *closeCancel) Close() error {
	defer c.cancel(nil)
	return c.ReadCloser.Close()
}

// errWriter keeps the first error of a run of writes, for the caller to
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
