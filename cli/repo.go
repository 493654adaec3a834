package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell/client"
)

// subcommand is one verb of a command with several (pin add, repo gc, …).
type subcommand struct {
	// timeout is the default --timeout: 0 for verbs whose work grows with
	// the repo or the DAG (a pin fetches, a GC walks everything).
	timeout time.Duration
	run     func(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error
}

// subFlags are the flags of every verb of pin, repo and dag, parsed
// together so that they may stand anywhere on the line.
type subFlags struct {
	*clientFlags
	recursive bool
	pinRoots  bool
	quiet     bool
	typ       string
}

// runSubcommand parses args as `<verb> [args] [flags]` and runs the verb.
func runSubcommand(ctx context.Context, name string, verbs map[string]subcommand, args []string, stdout io.Writer) error {
	f := &subFlags{clientFlags: newClientFlags(name, 0)}
	f.fs.BoolVar(&f.recursive, "recursive", true, "pin add: pin the whole DAG; false pins the block alone")
	f.fs.BoolVar(&f.pinRoots, "pin-roots", true, "dag import: pin the CAR's roots")
	f.fs.BoolVar(&f.quiet, "q", false, "print CIDs only")
	f.fs.BoolVar(&f.quiet, "quiet", false, "same as -q")
	f.fs.StringVar(&f.typ, "type", "all", "pin ls: all, recursive, direct or indirect")
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: %s needs a subcommand: %s", errUsage, name, clientUsage[name])
	}
	verb, ok := verbs[pos[0]]
	if !ok {
		return fmt.Errorf("%w: %s: unknown subcommand %q", errUsage, name, pos[0])
	}
	timeout := verb.timeout
	if f.given("timeout") {
		timeout = f.timeout
	}
	c, err := f.connect(timeout)
	if err != nil {
		return err
	}
	return verb.run(ctx, c, f, pos[1:], stdout)
}

func runPin(ctx context.Context, args []string, stdout io.Writer) error {
	return runSubcommand(ctx, "pin", map[string]subcommand{
		"add": {0, runPinAdd},
		"rm":  {defaultClientTimeout, runPinRm},
		"ls":  {0, runPinLs},
	}, args, stdout)
}

func runRepo(ctx context.Context, args []string, stdout io.Writer) error {
	return runSubcommand(ctx, "repo", map[string]subcommand{
		"gc":     {0, runRepoGC},
		"stat":   {defaultClientTimeout, runRepoStat},
		"verify": {0, runRepoVerify},
	}, args, stdout)
}

func runDag(ctx context.Context, args []string, stdout io.Writer) error {
	return runSubcommand(ctx, "dag", map[string]subcommand{
		"export": {0, runDagExport},
		"import": {0, runDagImport},
	}, args, stdout)
}

// cidList parses one or more CID arguments.
func cidList(cmd string, pos []string) ([]cid.Cid, error) {
	if len(pos) == 0 {
		return nil, fmt.Errorf("%w: %s takes at least one CID", errUsage, cmd)
	}
	ids := make([]cid.Cid, len(pos))
	for i, s := range pos {
		id, err := parseCID(s)
		if err != nil {
			return nil, err
		}
		ids[i] = id
	}
	return ids, nil
}

func runPinAdd(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error {
	ids, err := cidList("pin add", pos)
	if err != nil {
		return err
	}
	pinned, err := c.PinAdd(ctx, f.recursive, ids...)
	if err != nil {
		return err
	}
	how := "recursively"
	if !f.recursive {
		how = "directly"
	}
	for _, id := range pinned {
		if _, err := fmt.Fprintf(stdout, "pinned %s %s\n", id, how); err != nil {
			return err
		}
	}
	return nil
}

func runPinRm(ctx context.Context, c *client.Client, _ *subFlags, pos []string, stdout io.Writer) error {
	ids, err := cidList("pin rm", pos)
	if err != nil {
		return err
	}
	unpinned, err := c.PinRm(ctx, ids...)
	if err != nil {
		return err
	}
	for _, id := range unpinned {
		if _, err := fmt.Fprintf(stdout, "unpinned %s\n", id); err != nil {
			return err
		}
	}
	return nil
}

// runPinLs prints `<cid> <type>` per pin, as Kubo's `ipfs pin ls` does.
func runPinLs(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error {
	var ids []cid.Cid
	if len(pos) > 0 {
		var err error
		if ids, err = cidList("pin ls", pos); err != nil {
			return err
		}
	}
	return c.PinLs(ctx, f.typ, ids, func(p client.Pin) error {
		var err error
		if f.quiet {
			_, err = fmt.Fprintln(stdout, p.Cid)
		} else {
			_, err = fmt.Fprintf(stdout, "%s %s\n", p.Cid, p.Type)
		}
		return err
	})
}

// runRepoGC prints `removed <cid>` per block removed, as Kubo does.
func runRepoGC(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: repo gc: unexpected argument %q", errUsage, pos[0])
	}
	return c.RepoGC(ctx, func(id cid.Cid) error {
		var err error
		if f.quiet {
			_, err = fmt.Fprintln(stdout, id)
		} else {
			_, err = fmt.Fprintf(stdout, "removed %s\n", id)
		}
		return err
	})
}

func runRepoStat(ctx context.Context, c *client.Client, _ *subFlags, pos []string, stdout io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: repo stat: unexpected argument %q", errUsage, pos[0])
	}
	st, err := c.RepoStat(ctx)
	if err != nil {
		return err
	}
	limit := fmt.Sprint(st.StorageMax)
	if st.StorageMax == 0 {
		limit = "0 (unlimited)"
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "NumObjects:\t%d\n", st.NumObjects)
	fmt.Fprintf(tw, "RepoSize:\t%d\n", st.RepoSize)
	fmt.Fprintf(tw, "StorageMax:\t%s\n", limit)
	fmt.Fprintf(tw, "RepoPath:\t%s\n", st.RepoPath)
	fmt.Fprintf(tw, "Version:\t%s\n", st.Version)
	return tw.Flush()
}

// runRepoVerify prints `corrupt <cid>` per bad block, then the daemon's
// verdict; corrupt blocks make it fail.
func runRepoVerify(ctx context.Context, c *client.Client, _ *subFlags, pos []string, stdout io.Writer) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: repo verify: unexpected argument %q", errUsage, pos[0])
	}
	msg, err := c.RepoVerify(ctx, func(id cid.Cid) error {
		_, err := fmt.Fprintf(stdout, "corrupt %s\n", id)
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, msg)
	return err
}

// runDagExport writes the CAR to stdout; like cat, without --timeout it
// bounds only the wait for the root to be found.
func runDagExport(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error {
	id, err := oneCID("dag export", pos)
	if err != nil {
		return err
	}
	var rc io.ReadCloser
	if f.given("timeout") {
		rc, err = c.DAGExport(ctx, id)
	} else {
		rc, err = openWithin(ctx, fetchFindTimeout, id, func(ctx context.Context) (io.ReadCloser, error) { return c.DAGExport(ctx, id) })
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(stdout, rc)
	return err
}

// runDagImport imports each CAR file, printing Kubo's line per root.
func runDagImport(ctx context.Context, c *client.Client, f *subFlags, pos []string, stdout io.Writer) error {
	if len(pos) == 0 {
		return fmt.Errorf("%w: dag import takes at least one CAR file (- for stdin)", errUsage)
	}
	for _, path := range pos {
		if err := importCAR(ctx, c, path, f.pinRoots, stdout); err != nil {
			return err
		}
	}
	return nil
}

func importCAR(ctx context.Context, c *client.Client, path string, pinRoots bool, stdout io.Writer) error {
	in := io.ReadCloser(os.Stdin)
	if path != "-" {
		var err error
		if in, err = os.Open(path); err != nil {
			return err
		}
	}
	defer in.Close()
	roots, err := c.DAGImport(ctx, in, pinRoots)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, r := range roots {
		status := "success"
		if r.PinErrorMsg != "" {
			status = "FAILED: " + r.PinErrorMsg
		} else if !pinRoots {
			status = "imported, not pinned"
		}
		if _, err := fmt.Fprintf(stdout, "Pinned root\t%s\t%s\n", r.Cid, status); err != nil {
			return err
		}
	}
	return nil
}
