package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cairnnet/cairn/peer"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/ipfs/go-cid"
	"github.com/mattn/go-isatty"
)

// errNoSocket means the daemon takes no file from this process (it is
// remote, or has no files socket): the shell's HTTP stream is used.
var errNoSocket = errors.New("no files socket")

// filesSocket is the local daemon's files socket, or errNoSocket when
// --api names a daemon (maybe another machine's) or the repo has none.
func (o *clientOpts) filesSocket() (string, error) {
	if o.api != "" {
		return "", errNoSocket
	}
	path := filepath.Join(repoOr(o.repo), peer.FilesSocket)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		return "", errNoSocket
	}
	return path, nil
}

// getToPath has the local daemon write the file id straight into out: the
// CLI creates a temporary file beside out (so it has this user's
// permissions), passes its descriptor, and renames it to out once whole.
// errNoSocket or client.ErrNotFile (a directory) leave nothing behind,
// for the caller to use the shell's archive instead.
func (o *clientOpts) getToPath(ctx context.Context, id cid.Cid, out string, progress func(int64)) error {
	socket, err := o.filesSocket()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	parent, err := os.OpenRoot(filepath.Dir(out))
	if err != nil {
		return err
	}
	defer parent.Close()
	tmp, tmpName, err := createTemp(parent, ".")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		parent.Remove(tmpName) // gone already once renamed
	}()
	if err := o.socketOp(ctx, id, progress, func(ctx context.Context, timeout time.Duration, progress func(int64)) error {
		_, err := client.GetToFile(ctx, socket, id, tmp, timeout, progress)
		return err
	}); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return parent.Rename(tmpName, filepath.Base(out))
}

// catToFile has the local daemon write the whole file id into stdout in
// order, when stdout is a file or a pipe (not a terminal, which the CLI
// writes itself); else errNoSocket.
func (o *clientOpts) catToFile(ctx context.Context, id cid.Cid, stdout io.Writer, offset, length int64) error {
	out, ok := stdout.(*os.File)
	if !ok || offset != 0 || length >= 0 || isatty.IsTerminal(out.Fd()) {
		return errNoSocket
	}
	socket, err := o.filesSocket()
	if err != nil {
		return err
	}
	return o.socketOp(ctx, id, nil, func(ctx context.Context, timeout time.Duration, progress func(int64)) error {
		_, err := client.CatToFile(ctx, socket, id, out, timeout, progress)
		return err
	})
}

// socketOp runs op with the command's timeout, as fetch bounds the shell's
// streams: with --timeout the whole operation, else only the wait for the
// first byte (fetchFindTimeout).
func (o *clientOpts) socketOp(ctx context.Context, id cid.Cid, progress func(int64), op func(context.Context, time.Duration, func(int64)) error) error {
	if o.given("timeout") {
		return op(ctx, o.timeout, progress)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(fetchFindTimeout, func() {
		cancel(fmt.Errorf("content %s not found within %s (pass a longer --timeout to wait more)", id, fetchFindTimeout))
	})
	defer timer.Stop()
	err := op(ctx, 0, func(n int64) {
		if n > 0 {
			timer.Stop()
		}
		if progress != nil {
			progress(n)
		}
	})
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}
