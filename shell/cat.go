package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// cat streams the bytes of one or more files, from offset for up to length
// bytes, as Kubo does. Every file is opened before the headers go out, so
// that a missing CID is a proper error rather than an empty 200.
func (s *shell) cat(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	offset, _, err := intParam(q, "offset", 0)
	if err != nil {
		return err
	}
	length, hasLength, err := intParam(q, "length", -1)
	if err != nil {
		return err
	}
	if offset < 0 || (hasLength && length < 0) {
		return errorf(kindBadRequest, "cannot specify a negative offset or length")
	}
	if !hasLength {
		length = -1
	}
	body, size, err := s.openRange(r.Context(), cids, offset, length)
	if err != nil {
		return err
	}
	defer body.Close()
	var rd io.Reader = body
	if hasLength {
		rd = io.LimitReader(body, length)
		if size >= 0 {
			size = min(size, length)
		}
	}
	startStream(w, size)
	return copyStream(w, rd)
}

// openRange opens cids as one stream starting offset bytes in, skipping
// whole files as Kubo does, and reports how many bytes follow (-1 when a
// file's size is unknown). length (< 0: all) is a hint for a single file,
// which then fetches only what the range needs.
func (s *shell) openRange(ctx context.Context, cids []cid.Cid, offset, length int64) (*catReader, int64, error) {
	cr := &catReader{ctx: ctx}
	var size int64
	for _, c := range cids {
		var f files.File
		var n int64
		var err error
		if rb, ok := s.backend.(RangeBackend); ok && len(cids) == 1 {
			f, n, err = s.openFileWith(ctx, c, func() (files.Node, error) { return rb.NodeRange(ctx, c, offset, length) })
		} else {
			f, n, err = s.openFile(ctx, c)
		}
		if err != nil {
			cr.Close()
			return nil, 0, err
		}
		if n >= 0 && offset > n {
			offset -= n
			f.Close()
			continue
		}
		if err := skip(f, offset); err != nil {
			f.Close()
			cr.Close()
			return nil, 0, fetchError(ctx, c, err)
		}
		if size >= 0 && n >= 0 {
			size += n - offset
		} else {
			size = -1
		}
		offset = 0
		cr.parts = append(cr.parts, catPart{cid: c, f: f})
	}
	return cr, size, nil
}

// openFile opens c, which must be a file, and reports its size, or -1 if
// the file cannot tell.
func (s *shell) openFile(ctx context.Context, c cid.Cid) (files.File, int64, error) {
	return s.openFileWith(ctx, c, func() (files.Node, error) { return s.backend.Node(ctx, c) })
}

// openFileWith is openFile with the node opened by open.
func (s *shell) openFileWith(ctx context.Context, c cid.Cid, open func() (files.Node, error)) (files.File, int64, error) {
	nd, err := open()
	if err != nil {
		return nil, 0, fetchError(ctx, c, err)
	}
	f, ok := nd.(files.File)
	if _, isLink := nd.(*files.Symlink); isLink || !ok {
		nd.Close()
		return nil, 0, errorf(kindBadRequest, "%s is a directory, not a file: use get to fetch it", c)
	}
	n, err := f.Size()
	if err != nil {
		n = -1
	}
	return f, n, nil
}

// skip moves n bytes into f: by seeking when f can, since reading a large
// file's start from the network only to discard it would be wasteful.
func skip(f files.File, n int64) error {
	if n == 0 {
		return nil
	}
	if sk, ok := f.(io.Seeker); ok {
		_, err := sk.Seek(n, io.SeekStart)
		return err
	}
	_, err := io.CopyN(io.Discard, f, n)
	if errors.Is(err, io.EOF) {
		return nil // past the end: nothing left to send
	}
	return err
}

// catReader reads several files in turn, naming the CID whose read failed.
type catReader struct {
	ctx   context.Context
	parts []catPart
}

type catPart struct {
	cid cid.Cid
	f   files.File
}

func (cr *catReader) Read(p []byte) (int, error) {
	for len(cr.parts) > 0 {
		part := cr.parts[0]
		n, err := part.f.Read(p)
		if errors.Is(err, io.EOF) {
			part.f.Close()
			cr.parts = cr.parts[1:]
			err = nil
		}
		if err != nil {
			return n, fetchError(cr.ctx, part.cid, err)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

func (cr *catReader) Close() error {
	var errs []error
	for _, part := range cr.parts {
		errs = append(errs, part.f.Close())
	}
	cr.parts = nil
	return errors.Join(errs...)
}

// get streams c as a tar archive, as Kubo does; a single file becomes one
// entry named by its CID. The archive is never compressed here: the CLI can
// compress locally, and the node need not spend CPU for it.
func (s *shell) get(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := oneCIDArg(q)
	if err != nil {
		return err
	}
	if compress, err := boolParam(q, "compress", false); err != nil || compress {
		return errorf(kindBadRequest, "compress is not supported: fetch the tar and compress it locally")
	}
	nd, err := s.backend.Node(r.Context(), c)
	if err != nil {
		return fetchError(r.Context(), c, err)
	}
	defer nd.Close()
	startStream(w, -1)
	tw, err := files.NewTarWriter(flushWriter{w})
	if err != nil {
		return fmt.Errorf("starting tar stream: %w", err)
	}
	if err := tw.WriteFile(nd, c.String()); err != nil {
		return fetchError(r.Context(), c, err)
	}
	return tw.Close()
}
