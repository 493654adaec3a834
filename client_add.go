package main

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
	path, err := oneArg("add", pos, "FILE or DIR")
	if err != nil {
		return err
	}
	opts, err := a.options()
	if err != nil {
		return err
	}
	nd, name, err := openInput(path, a.recursive, a.hidden)
	if err != nil {
		return err
	}
	defer nd.Close()
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	total, sizeErr := nd.Size()
	sized := sizeErr == nil && path != "-"
	bar := newProgress(os.Stderr, a.quiet || a.quieter || a.noProgress, sized, "adding "+displayName(name))
	defer bar.Abort()
	if sized {
		// The body is a little larger (part headers): the bar tops out
		// at the total.
		bar.SetTotal(total)
	}
	// The bar follows the bytes sent: the shell imports them as they arrive.
	opts.Sent = bar.SetCurrent
	res, err := c.AddNode(ctx, name, nd, opts, func(ev client.AddEvent) error {
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
