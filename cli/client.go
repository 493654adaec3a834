package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/peer"
	"github.com/cairnnet/cairn/shell/client"
)

// clientCommand is a CLI command that talks to a running daemon through
// its HTTP shell. Usage is its line in `cairn help`.
type clientCommand struct {
	Usage string
	Run   func(ctx context.Context, args []string, stdout io.Writer) error
}

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

// clientCommands are the client subcommands; every one also takes --api
// MADDR, --repo DIR and --timeout DURATION, before or after its arguments.
var clientCommands = map[string]clientCommand{
	"add":       newClientCommand("add", runAdd),
	"cat":       newClientCommand("cat", runCat),
	"get":       newClientCommand("get", runGet),
	"ls":        newClientCommand("ls", runLs),
	"id":        newClientCommand("id", runID),
	"peers":     newClientCommand("peers", runPeers),
	"connect":   newClientCommand("connect", runConnect),
	"findprovs": newClientCommand("findprovs", runFindProvs),
	"version":   newClientCommand("version", runVersion),
	"addrs":     newClientCommand("addrs", runAddrs),
	"routing":   newClientCommand("routing", runRouting),
	"stats":     newClientCommand("stats", runStats),
	"pin":       newClientCommand("pin", runPin),
	"repo":      newClientCommand("repo", runRepo),
	"dag":       newClientCommand("dag", runDag),
}

// clientUsage is each command's line in `cairn help` and `cairn CMD -h`.
// It stands apart from clientCommands so that commands can print it.
var clientUsage = map[string]string{
	"add":       usageLine("add PATH... [-r] [-w] [-q|-Q]", "import files (- for stdin) and, with -r, directories; print `added <cid> <name>` per entry, root last"),
	"cat":       usageLine("cat CID [--offset N] [--length N]", "write a file's bytes to stdout"),
	"get":       usageLine("get CID [-o PATH] [-q]", "write a file or directory tree to PATH, default ./<cid>"),
	"ls":        usageLine("ls CID", "list a directory: <cid> <size> <name> per entry"),
	"id":        usageLine("id", "show the daemon's peer ID, addresses and protocols"),
	"peers":     usageLine("peers [-v]", "list connected peers (-v: latency and direction)"),
	"connect":   usageLine("connect MADDR...", "dial peers at /ip4/…/tcp/…/p2p/<id>"),
	"findprovs": usageLine("findprovs CID [-n N]", "print peers that announce CID in the DHT"),
	"version":   usageLine("version [--all]", "show the daemon's version"),
	"addrs":     usageLine("addrs [--local]", "list the addresses known for each peer (--local: the daemon's own)"),
	"routing":   usageLine("routing [lan|wan]", "show the DHT routing tables: buckets, peers, when each was last useful"),
	"stats":     usageLine("stats provide|bitswap|fastpath [-v]", "reproviding; Kubo's Bitswap counters (-v: partners); fast-path fetches, fallbacks, bytes"),
	"pin":       usageLine("pin add|rm|ls [CID...]", "pin (--recursive=false: the block alone), unpin, or list pins (--type all|recursive|direct|indirect)"),
	"repo":      usageLine("repo gc|stat|verify", "remove unpinned blocks; show blocks, bytes and storage_max; re-hash every block"),
	"dag":       usageLine("dag export CID | import FILE...", "write a DAG as a CARv1 to stdout; import CARs, verified, roots pinned (--pin-roots=false)"),
}

func usageLine(synopsis, what string) string {
	return fmt.Sprintf("%-33s %s", synopsis, what)
}

func newClientCommand(name string, run func(context.Context, []string, io.Writer) error) clientCommand {
	return clientCommand{Usage: clientUsage[name], Run: explained(run)}
}

// clientFlagsHelp explains the flags every client command shares, and the
// defaults of --timeout, which differ by command.
const clientFlagsHelp = `--timeout defaults: none for add; for cat and get, 2m to find the content
and no limit once it streams; 1m for the others.`

// clientFlags are the flags every client command takes.
type clientFlags struct {
	fs      *flag.FlagSet
	api     string
	repo    string
	timeout time.Duration
}

func newClientFlags(name string, timeout time.Duration) *clientFlags {
	f := &clientFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.StringVar(&f.api, "api", "", "the daemon's shell, as a multiaddr or http://host:port (default: read <repo>/api)")
	f.fs.StringVar(&f.repo, "repo", defaultRepo(), "repo of the daemon to talk to")
	f.fs.DurationVar(&f.timeout, "timeout", timeout, "give up after this long; 0 waits for ever")
	return f
}

// parse reads flags wherever they stand among the positional arguments,
// so that `cairn cat CID --timeout 5s` works as well as `cairn cat
// --timeout 5s CID`; "--" ends the flags. -h prints the command's help.
func (f *clientFlags) parse(args []string, stdout io.Writer) ([]string, error) {
	f.fs.SetOutput(io.Discard)
	var pos []string
	for {
		err := f.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: cairn %s\n%s\n", clientUsage[f.fs.Name()], clientFlagsHelp)
			f.fs.SetOutput(stdout)
			f.fs.PrintDefaults()
			return nil, err
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", errUsage, f.fs.Name(), err)
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// given reports whether the flag was set on the command line.
func (f *clientFlags) given(name string) bool {
	found := false
	f.fs.Visit(func(fl *flag.Flag) { found = found || fl.Name == name })
	return found
}

// connect returns a client of the daemon, bounding requests by timeout.
func (f *clientFlags) connect(timeout time.Duration) (*client.Client, error) {
	addr := f.api
	if addr == "" {
		var err error
		if addr, err = readAPIFile(f.repo); err != nil {
			return nil, err
		}
	}
	opts := []client.Option{client.WithTimeout(timeout)}
	if tok := os.Getenv("CAIRN_API_TOKEN"); tok != "" {
		opts = append(opts, client.WithToken(tok))
	}
	return client.New(addr, opts...)
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

// explained runs a command and rewrites the errors a user can act on.
func explained(run func(context.Context, []string, io.Writer) error) func(context.Context, []string, io.Writer) error {
	return func(ctx context.Context, args []string, stdout io.Writer) error {
		err := run(ctx, args, stdout)
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

// oneCID checks that exactly one positional argument was given and that it
// is a CID.
func oneCID(cmd string, pos []string) (cid.Cid, error) {
	if len(pos) != 1 {
		return cid.Undef, fmt.Errorf("%w: %s takes one CID, got %d arguments", errUsage, cmd, len(pos))
	}
	return parseCID(pos[0])
}

func runCat(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("cat", 0)
	offset := f.fs.Int64("offset", 0, "start this many bytes in")
	length := f.fs.Int64("length", -1, "write at most this many bytes (-1: to the end)")
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	id, err := oneCID("cat", pos)
	if err != nil {
		return err
	}
	rc, err := f.fetch(ctx, id, func(ctx context.Context, c *client.Client) (io.ReadCloser, error) {
		return c.CatRange(ctx, id, *offset, *length)
	})
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(stdout, rc)
	return err
}

// fetch opens a download. With --timeout, the whole request is bounded by
// it; without, only the wait for the daemon to find the content is.
func (f *clientFlags) fetch(ctx context.Context, id cid.Cid, open func(context.Context, *client.Client) (io.ReadCloser, error)) (io.ReadCloser, error) {
	if f.given("timeout") {
		c, err := f.connect(f.timeout)
		if err != nil {
			return nil, err
		}
		return open(ctx, c)
	}
	c, err := f.connect(0)
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

func (c *closeCancel) Close() error {
	defer c.cancel(nil)
	return c.ReadCloser.Close()
}

func runID(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("id", defaultClientTimeout)
	if err := noArgs(f, args, stdout); err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	id, err := c.ID(ctx)
	if err != nil {
		return err
	}
	// Printed as Kubo's `ipfs id` prints it.
	out := struct {
		ID           string
		PublicKey    string
		Addresses    []string
		AgentVersion string
		Protocols    []string
		Reachability string `json:",omitempty"` // Cairn's addition: public, private or unknown
	}{id.ID.String(), id.PublicKey, make([]string, 0, len(id.Addresses)), id.AgentVersion, id.Protocols, id.Reachability}
	for _, a := range id.Addresses {
		out.Addresses = append(out.Addresses, a.String())
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "\t")
	return enc.Encode(out)
}

// noArgs parses a command that takes flags only.
func noArgs(f *clientFlags, args []string, stdout io.Writer) error {
	pos, err := f.parse(args, stdout)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: %s: unexpected argument %q", errUsage, f.fs.Name(), pos[0])
	}
	return err
}

func runPeers(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("peers", defaultClientTimeout)
	verbose := f.fs.Bool("v", false, "also show latency and direction")
	if err := noArgs(f, args, stdout); err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	peers, err := c.Peers(ctx)
	if err != nil {
		return err
	}
	for _, p := range peers {
		line := fmt.Sprintf("%s/p2p/%s", p.Addr, p.ID)
		if *verbose {
			line += fmt.Sprintf(" %s %s", latencyText(p.Latency), p.Direction)
		}
		if _, err := fmt.Fprintln(stdout, line); err != nil {
			return err
		}
	}
	return nil
}

func latencyText(d time.Duration) string {
	if d == 0 {
		return "n/a"
	}
	return d.String()
}

func runConnect(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("connect", defaultClientTimeout)
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: connect takes at least one MADDR", errUsage)
	}
	addrs, err := parseP2PAddrs(pos)
	if err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	lines, err := c.Connect(ctx, addrs...)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, strings.Join(lines, "\n"))
	return err
}

// parseP2PAddrs checks addresses before any is dialled.
func parseP2PAddrs(args []string) ([]ma.Multiaddr, error) {
	addrs := make([]ma.Multiaddr, len(args))
	for i, s := range args {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("invalid multiaddr %q: %w", s, err)
		}
		if _, id := libp2ppeer.SplitAddr(a); id == "" {
			return nil, fmt.Errorf("multiaddr %q has no /p2p/<peer-id> part", s)
		}
		addrs[i] = a
	}
	return addrs, nil
}

func runFindProvs(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("findprovs", defaultClientTimeout)
	n := f.fs.Int("n", 20, "stop after this many providers")
	f.fs.IntVar(n, "num-providers", 20, "same as -n")
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	id, err := oneCID("findprovs", pos)
	if err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	return c.FindProvs(ctx, id, *n, func(p libp2ppeer.AddrInfo) error {
		_, err := fmt.Fprintln(stdout, p.ID)
		return err
	})
}

func runVersion(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("version", defaultClientTimeout)
	all := f.fs.Bool("all", false, "show commit, repo, system and Go versions too")
	if err := noArgs(f, args, stdout); err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	v, err := c.Version(ctx)
	if err != nil {
		return err
	}
	if !*all {
		_, err = fmt.Fprintf(stdout, "cairn version %s\n", v.Version)
		return err
	}
	version := v.Version
	if v.Commit != "" {
		version += "-" + v.Commit
	}
	_, err = fmt.Fprintf(stdout, "Cairn version: %s\nRepo version: %s\nSystem version: %s\nGolang version: %s\n",
		version, v.Repo, v.System, v.Golang)
	return err
}
