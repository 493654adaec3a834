package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cairnnet/cairn/shell/client"
)

func runGet(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("get", 0)
	out := f.fs.String("o", "", "where to write the file or directory (default ./<cid>)")
	f.fs.StringVar(out, "output", "", "same as -o")
	quiet := f.fs.Bool("quiet", false, "hide the progress bar")
	f.fs.BoolVar(quiet, "q", false, "same as --quiet")
	f.fs.BoolVar(quiet, "no-progress", false, "same as --quiet")
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	id, err := oneCID("get", pos)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = id.String()
	}
	rc, err := f.fetch(ctx, id, func(ctx context.Context, c *client.Client) (io.ReadCloser, error) { return c.Get(ctx, id) })
	if err != nil {
		return err
	}
	defer rc.Close()
	bar := newProgress(os.Stderr, *quiet, false, "getting "+id.String())
	defer bar.Abort()
	// The archive's size is not known ahead: the bar shows bytes and rate.
	body := &countingReader{r: rc, report: bar.SetCurrent}
	if err := extractTar(body, id.String(), *out); err != nil {
		return err
	}
	if err := bar.Done(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "saved %s to %s\n", id, *out)
	return err
}

// countingReader reports the running count of bytes read.
type countingReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.report(c.n)
	return n, err
}

func runLs(ctx context.Context, args []string, stdout io.Writer) error {
	f := newClientFlags("ls", defaultClientTimeout)
	pos, err := f.parse(args, stdout)
	if err != nil {
		return err
	}
	id, err := oneCID("ls", pos)
	if err != nil {
		return err
	}
	c, err := f.connect(f.timeout)
	if err != nil {
		return err
	}
	links, err := c.Ls(ctx, id)
	if err != nil {
		return err
	}
	// As Kubo's `ipfs ls` prints them: directories with "-" for a size
	// and a trailing slash.
	for _, l := range links {
		size, name := fmt.Sprint(l.Size), l.Name
		switch l.Type {
		case client.TypeDirectory:
			size, name = "-", name+"/"
		case client.TypeSymlink:
			name += " -> " + l.Target
		}
		if _, err := fmt.Fprintf(stdout, "%s %s %s\n", l.Cid, size, name); err != nil {
			return err
		}
	}
	return nil
}
