package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/shell/client"
)

const fetchTimeoutHelp = `
Without --timeout, the daemon has 2m to find the content, and no limit
once it streams; --timeout bounds the whole transfer.`

func newCatCmd() *cobra.Command {
	var offset, length int64
	cmd := &cobra.Command{
		Use:   "cat CID",
		Short: "Write a file's bytes to stdout",
		Long: `Write a file's bytes to stdout, fetching from peers what the node
lacks. --offset and --length read a range; only the blocks that hold it
are fetched.` + fetchTimeoutHelp,
		Example: `  cairn cat bafkrei... > file
  cairn cat --offset 1048576 --length 100 /ipfs/bafybei...`,
		Args: exactArgs(1, "one CID"),
	}
	o := clientFlags(cmd, 0)
	cmd.Flags().Int64VarP(&offset, "offset", "o", 0, "start this many bytes in")
	cmd.Flags().Int64VarP(&length, "length", "l", -1, "write at most this many bytes (-1: to the end)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		// Into a file or a pipe, the local daemon writes itself
		// (localfile.go); a terminal, a range or a daemon elsewhere
		// read the shell's stream.
		if err := o.catToFile(cmd.Context(), id, cmd.OutOrStdout(), offset, length); !errors.Is(err, errNoSocket) {
			return explain(err)
		}
		rc, err := o.fetch(cmd.Context(), id, func(ctx context.Context, c *client.Client) (io.ReadCloser, error) {
			return c.CatRange(ctx, id, offset, length)
		})
		if err != nil {
			return explain(err)
		}
		defer rc.Close()
		_, err = io.Copy(cmd.OutOrStdout(), rc)
		return err
	}
	return cmd
}

func newGetCmd() *cobra.Command {
	var out string
	var quiet, noProgress bool
	progress := true
	cmd := &cobra.Command{
		Use:   "get CID",
		Short: "Write a file or directory tree to disk",
		Long: `Write a file or a directory tree (with its symlinks) to -o PATH,
default ./<cid>. Nothing is written outside PATH, whatever the archive
holds, and each file lands whole or not at all.` + fetchTimeoutHelp,
		Example: `  cairn get bafybei... -o site/`,
		Args:    exactArgs(1, "one CID"),
	}
	o := clientFlags(cmd, 0)
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "where to write the file or directory (default ./<cid>)")
	f.BoolVarP(&quiet, "quiet", "q", false, "hide the progress bar")
	f.BoolVar(&noProgress, "no-progress", false, "hide the progress bar")
	f.BoolVarP(&progress, "progress", "p", true, "show the progress bar on a terminal")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		if out == "" {
			out = id.String()
		}
		bar := newProgress(os.Stderr, quiet || noProgress || !progress, false, "getting "+id.String())
		defer bar.Abort()
		// A file from the local daemon: it writes into a file this
		// process opened (localfile.go); a directory, or a daemon
		// elsewhere, comes as the shell's archive.
		switch err := o.getToPath(cmd.Context(), id, out, bar.SetCurrent); {
		case err == nil:
			bar.Done()
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "saved %s to %s\n", id, out)
			return err
		case !errors.Is(err, errNoSocket) && !errors.Is(err, client.ErrNotFile):
			return explain(err)
		}
		rc, err := o.fetch(cmd.Context(), id, func(ctx context.Context, c *client.Client) (io.ReadCloser, error) { return c.Get(ctx, id) })
		if err != nil {
			return explain(err)
		}
		defer rc.Close()
		// The archive's size is not known ahead: the bar shows bytes and rate.
		body := &countingReader{r: rc, report: bar.SetCurrent}
		if err := extractTar(body, id.String(), out); err != nil {
			return err
		}
		bar.Done()
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "saved %s to %s\n", id, out)
		return err
	}
	return cmd
}

// countingReader reports the running count of bytes read.
type countingReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

// Read reads from r and reports the new count.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.report(c.n)
	return n, err
}

func newLsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ls CID",
		Short: "List a directory's entries",
		Long: `List a UnixFS directory: "<cid> <size> <name>" per entry, as Kubo's
ipfs ls prints them (directories with - for a size and a trailing slash,
symlinks with their target).`,
		Args: exactArgs(1, "one CID"),
	}
	o := printingFlags(cmd, defaultClientTimeout)
	cmd.RunE = o.run(func(ctx context.Context, c *client.Client, args []string, out io.Writer) error {
		id, err := parseCID(args[0])
		if err != nil {
			return err
		}
		if asJSON, _ := o.json(); asJSON {
			return printJSON(ctx, c, "ls", argValues(id.String()), out)
		}
		links, err := c.Ls(ctx, id)
		if err != nil {
			return err
		}
		w := &errWriter{w: out}
		for _, l := range links {
			size, name := fmt.Sprint(l.Size), l.Name
			switch l.Type {
			case client.TypeDirectory:
				size, name = "-", name+"/"
			case client.TypeSymlink:
				name += " -> " + l.Target
			}
			w.printf("%s %s %s\n", l.Cid, size, name)
		}
		return w.err
	})
	return cmd
}
