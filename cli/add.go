package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

// addFlags are add's own flags, beside the client flags.
type addFlags struct {
	recursive, wrap, hidden bool
	quiet, quieter          bool
	progress                bool
	noProgress              bool
	cidVersion              int
	rawLeaves               bool
	chunker                 string
	pin, onlyHash           bool
}

func newAddCmd() *cobra.Command {
	var a addFlags
	cmd := &cobra.Command{
		Use:   "add PATH...",
		Short: "Import files and directories; print their CIDs",
		Long: `Import files (- for standard input) and, with -r, directories, as
UnixFS DAGs; print "added <cid> <name>" for each entry as it is stored,
the root last. What is added is pinned and announced unless --pin=false.

The defaults follow IPIP-499's unixfs-v1-2025 profile (CIDv1, raw leaves,
1 MiB chunks), as in config.yaml's content section, so the same bytes get
the same CID as in Kubo run with that profile. A progress bar shows on a
terminal; -q, -Q or --no-progress hide it.`,
		Example: `  cairn add notes.txt
  cairn add -rQ photos/
  echo hello | cairn add -q -`,
		Args: minArgs(1, "a FILE or DIR (or - for stdin)"),
	}
	o := printingFlags(cmd, 0)
	f := cmd.Flags()
	f.BoolVarP(&a.recursive, "recursive", "r", false, "add a directory and everything in it")
	f.BoolVarP(&a.wrap, "wrap-with-directory", "w", false, "wrap what is added in a directory, to keep its name")
	f.BoolVarP(&a.hidden, "hidden", "H", false, "include files whose names start with a dot")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "print only the CIDs; also hides the progress bar")
	f.BoolVarP(&a.quieter, "quieter", "Q", false, "print only the root's CID")
	f.BoolVarP(&a.progress, "progress", "p", true, "show the progress bar on a terminal")
	f.BoolVar(&a.noProgress, "no-progress", false, "hide the progress bar")
	f.IntVar(&a.cidVersion, "cid-version", -1, "CID version, 0 or 1; -1 keeps the node's default")
	f.BoolVar(&a.rawLeaves, "raw-leaves", false, "store leaves as raw blocks (default: the node's content.raw_leaves)")
	f.StringVarP(&a.chunker, "chunker", "s", "", "size-<bytes>, rabin-<min>-<avg>-<max> or buzhash (default: the node's)")
	f.BoolVar(&a.pin, "pin", true, "pin what is added")
	f.BoolVarP(&a.onlyHash, "only-hash", "n", false, "compute the CIDs without storing anything")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		asJSON, err := o.json()
		if err != nil {
			return err
		}
		return explain(runAdd(cmd.Context(), o, a, cmd.Flags().Changed("raw-leaves"), asJSON, args, cmd.OutOrStdout()))
	}
	return cmd
}

func (a *addFlags) options(rawLeavesGiven bool) client.AddOptions {
	opts := client.AddOptions{Chunker: a.chunker, NoPin: !a.pin, OnlyHash: a.onlyHash, Wrap: a.wrap}
	if a.cidVersion >= 0 {
		opts.CIDVersion = &a.cidVersion
	}
	if rawLeavesGiven {
		opts.RawLeaves = &a.rawLeaves
	}
	return opts
}

func runAdd(ctx context.Context, o *clientOpts, a addFlags, rawLeavesGiven, asJSON bool, args []string, stdout io.Writer) error {
	opts := a.options(rawLeavesGiven)
	entries, total, err := openInputs(args, a.recursive, a.hidden)
	if err != nil {
		return err
	}
	defer closeEntries(entries)
	c, err := o.connect(o.timeout)
	if err != nil {
		return err
	}
	label := "adding " + displayName(entries[0].Name())
	if len(entries) > 1 {
		label = fmt.Sprintf("adding %d items", len(entries))
	}
	quiet := a.quiet || a.quieter || a.noProgress || !a.progress
	bar := newProgress(os.Stderr, quiet, total >= 0, label)
	defer bar.Abort()
	if total >= 0 {
		// The body is a little larger (part headers): the bar tops out
		// at the total.
		bar.SetTotal(total)
	}
	// The bar follows the bytes sent: the shell imports them as they arrive.
	opts.Sent = bar.SetCurrent
	res, err := c.AddEntries(ctx, entries, opts, func(ev client.AddEvent) error {
		if !ev.Cid.Defined() || a.quieter {
			return nil
		}
		return bar.Println(stdout, addedLine(ev.AddResult, a.quiet, asJSON))
	})
	if err != nil {
		return err
	}
	bar.Done()
	if a.quieter {
		_, err = fmt.Fprintln(stdout, addedLine(res, true, asJSON))
	}
	return err
}

func displayName(name string) string {
	if name == "" {
		return "stdin"
	}
	return name
}

// openInputs opens every path to add and sums their sizes (-1 when one
// cannot tell, as standard input).
func openInputs(paths []string, recursive, hidden bool) ([]files.DirEntry, int64, error) {
	var entries []files.DirEntry
	var total int64
	for _, p := range paths {
		if p == "-" && len(paths) > 1 {
			closeEntries(entries)
			return nil, 0, fmt.Errorf("%w: add: - (stdin) cannot be mixed with paths", errUsage)
		}
		nd, name, err := openInput(p, recursive, hidden)
		if err != nil {
			closeEntries(entries)
			return nil, 0, err
		}
		entries = append(entries, files.FileEntry(name, nd))
		if n, err := nd.Size(); err == nil && p != "-" && total >= 0 {
			total += n
		} else {
			total = -1
		}
	}
	return entries, total, nil
}

func closeEntries(entries []files.DirEntry) {
	for _, e := range entries {
		e.Node().Close()
	}
}

// openInput opens what to add: "-" is standard input, sent unnamed; a
// directory needs recursive. A symlink named on the command line is
// followed, as the user pointed at what it names; symlinks inside a
// directory are kept as symlinks (IPIP-499), and hidden files are left out
// unless asked for.
func openInput(path string, recursive, hidden bool) (files.Node, string, error) {
	if path == "-" {
		return files.NewReaderFile(os.Stdin), "", nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if st.IsDir() && !recursive {
		return nil, "", fmt.Errorf("%s is a directory: add it with -r", path)
	}
	filter, err := files.NewFilter("", nil, hidden)
	if err != nil {
		return nil, "", fmt.Errorf("add: %w", err)
	}
	nd, err := files.NewSerialFileWithFilter(path, filter, st)
	if err != nil {
		return nil, "", fmt.Errorf("add: %w", err)
	}
	name := filepath.Base(filepath.Clean(path))
	if name == "." || name == string(filepath.Separator) {
		abs, err := filepath.Abs(path)
		if err != nil {
			nd.Close()
			return nil, "", fmt.Errorf("add: %w", err)
		}
		name = filepath.Base(abs)
	}
	return nd, name, nil
}

// addedLine is how add reports an entry: Kubo's "added <cid> <name>",
// the CID alone with -q, or Kubo's JSON object with --enc=json.
func addedLine(res client.AddResult, quiet, asJSON bool) string {
	switch {
	case asJSON:
		line, _ := json.Marshal(struct{ Name, Hash, Size string }{res.Name, res.Cid.String(), strconv.FormatUint(res.Size, 10)})
		return string(line)
	case quiet:
		return res.Cid.String()
	}
	return fmt.Sprintf("added %s %s", res.Cid, res.Name)
}
