package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ipfs/boxo/files"

	"github.com/cairnnet/cairn/shell/client"
)

// addFlags are add's own flags, beside the client flags.
type addFlags struct {
	recursive, wrap, hidden bool
	quiet, quieter          bool
	noProgress              bool
	cidVersion              int
	rawLeaves               string
	chunker                 string
	pin, onlyHash           bool
}

func (a *addFlags) register(f *clientFlags) {
	fs := f.fs
	fs.BoolVar(&a.recursive, "r", false, "add a directory and everything in it")
	fs.BoolVar(&a.recursive, "recursive", false, "same as -r")
	fs.BoolVar(&a.wrap, "w", false, "wrap what is added in a directory, to keep its name")
	fs.BoolVar(&a.wrap, "wrap-with-directory", false, "same as -w")
	fs.BoolVar(&a.hidden, "H", false, "include files whose names start with a dot")
	fs.BoolVar(&a.hidden, "hidden", false, "same as -H")
	fs.BoolVar(&a.quiet, "q", false, "print only the CIDs")
	fs.BoolVar(&a.quiet, "quiet", false, "same as -q; also hides the progress bar")
	fs.BoolVar(&a.quieter, "Q", false, "print only the root's CID")
	fs.BoolVar(&a.quieter, "quieter", false, "same as -Q")
	fs.BoolVar(&a.noProgress, "no-progress", false, "hide the progress bar")
	fs.IntVar(&a.cidVersion, "cid-version", -1, "CID version, 0 or 1; -1 keeps the node's default")
	fs.StringVar(&a.rawLeaves, "raw-leaves", "", "true or false: store leaves as raw blocks (default: the node's)")
	fs.StringVar(&a.chunker, "chunker", "", "size-<bytes>, rabin-<min>-<avg>-<max> or buzhash (default: the node's)")
	fs.BoolVar(&a.pin, "pin", true, "pin what is added")
	fs.BoolVar(&a.onlyHash, "only-hash", false, "compute the CIDs without storing anything")
}

func (a *addFlags) options() (client.AddOptions, error) {
	opts := client.AddOptions{Chunker: a.chunker, NoPin: !a.pin, OnlyHash: a.onlyHash, Wrap: a.wrap}
	if a.cidVersion >= 0 {
		opts.CIDVersion = &a.cidVersion
	}
	switch a.rawLeaves {
	case "":
	case "true", "false":
		raw := a.rawLeaves == "true"
		opts.RawLeaves = &raw
	default:
		return opts, fmt.Errorf("%w: add: --raw-leaves takes true or false, not %q", errUsage, a.rawLeaves)
	}
	return opts, nil
}

func runAdd(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("add", 0)
	var a addFlags
	a.register(f)
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: add takes a FILE or DIR (or - for stdin)", errUsage)
	}
	opts, err := a.options()
	if err != nil {
		return err
	}
	entries, total, err := openInputs(pos, a.recursive, a.hidden)
	if err != nil {
		return err
	}
	defer closeEntries(entries)
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	label := "adding " + displayName(entries[0].Name())
	if len(entries) > 1 {
		label = fmt.Sprintf("adding %d items", len(entries))
	}
	bar := newProgress(os.Stderr, a.quiet || a.quieter || a.noProgress, total >= 0, label)
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
		return bar.Println(stdout, addedLine(ev.AddResult, a.quiet))
	})
	if err != nil {
		return err
	}
	if err := bar.Done(); err != nil {
		return err
	}
	if a.quieter {
		_, err = fmt.Fprintln(stdout, res.Cid)
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

// addedLine is how add reports an entry: Kubo's "added <cid> <name>", or
// the CID alone with -q.
func addedLine(res client.AddResult, quiet bool) string {
	if quiet {
		return res.Cid.String()
	}
	return fmt.Sprintf("added %s %s", res.Cid, res.Name)
}
