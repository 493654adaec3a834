package shell

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"time"

	"github.com/ipfs/boxo/files"
)

// Why an upload's file could not be read whole. mime/multipart and
// net/http report a body cut short as io.ErrUnexpectedEOF, which boxo's
// chunkers take for the end of the file: the bytes before the cut would
// be stored and answered with a CID, as if they were the file.
var (
	errPartCut = errorf(kindBadRequest, "the upload ended before its closing multipart boundary: the file is incomplete")
	errBodyCut = errorf(kindBadRequest, "the upload ended before its declared length: the file is incomplete")
	// boxo's parser ends the upload, silently, at a part whose
	// Content-Disposition it cannot read: what follows would be lost.
	errBadPart = errorf(kindBadRequest, "reading multipart body: a part has no readable Content-Disposition filename, and the parts after it were not read")
)

// wholeFile is an uploaded file whose reads fail with cut, not
// io.ErrUnexpectedEOF, when its body ends early.
type wholeFile struct {
	files.File
	cut error
}

// Read reads the file, failing with f.cut where its body was cut short.
func (f wholeFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = f.cut
	}
	return n, err
}

// wholeDir is an uploaded directory whose files, at any depth, are
// wholeFiles, and whose listing fails, rather than ends, where the body
// ended without its closing boundary (end is nil for a body that has
// none to check).
type wholeDir struct {
	files.Directory
	cut error
	end *closeWatch
	top bool // the upload itself, whose listing must reach the body's end
}

// Entries lists the directory through a wholeIter.
func (d wholeDir) Entries() files.DirIterator {
	return &wholeIter{DirIterator: d.Directory.Entries(), cut: d.cut, end: d.end, top: d.top}
}

type wholeIter struct {
	files.DirIterator
	cut error
	end *closeWatch
	top bool
	err error
}

// Next ends the listing with an error where the parser stopped short of
// the closing delimiter: mime/multipart reports a part header cut short
// as io.EOF, the same as the last part, and boxo's parser ends the
// upload at a part whose name it cannot read; either way it would end
// the directory as if it were whole.
func (it *wholeIter) Next() bool {
	if it.err != nil {
		return false
	}
	if it.DirIterator.Next() {
		return true
	}
	if it.DirIterator.Err() == nil && it.end != nil {
		it.err = it.end.check(it.top, it.cut)
	}
	return false
}

// Err is why the listing stopped: the cut, or the parser's error.
func (it *wholeIter) Err() error {
	if it.err != nil {
		return it.err
	}
	return it.DirIterator.Err()
}

// Node is the current entry, its files and folders wrapped alike.
func (it *wholeIter) Node() files.Node {
	switch nd := it.DirIterator.Node().(type) {
	case *files.Symlink:
		return nd // a symlink's target is read whole by the parser
	case files.File:
		return wholeFile{nd, it.cut}
	case files.Directory:
		return wholeDir{nd, it.cut, it.end, false}
	default:
		return nd
	}
}

// closeWatch reads a multipart body, noting whether its closing delimiter
// ("--boundary--" at the start of a line) went by and whether the body
// ended. A part's content never holds a line starting with the
// delimiter, so seeing it means the parser had all the parts.
type closeWatch struct {
	r      io.Reader
	delim  []byte // "\n--boundary--"
	tail   []byte // the last len(delim)-1 bytes read
	closed bool
	ended  bool
	// parts is the parser's reader, asked once the upload's listing
	// has ended whether a part remains that boxo's parser stopped at.
	parts *multipart.Reader
}

func newCloseWatch(r io.Reader, boundary string) *closeWatch {
	// The body's start counts as a line start.
	return &closeWatch{r: r, delim: []byte("\n--" + boundary + "--"), tail: []byte("\n")}
}

// check says why a listing that ended was not the whole upload, or nil.
// A directory inside it may end at a sibling's part, so only the body's
// end without its delimiter is an error there. The upload's own listing
// must have reached the delimiter with no part left: one left is a part
// boxo's parser could not place, and stopped at. (A last such part goes
// unseen, as in Kubo, which parses uploads alike.)
func (w *closeWatch) check(top bool, cut error) error {
	switch {
	case !w.closed && w.ended:
		return cut
	case !top:
		return nil
	case !w.closed:
		return errBadPart
	}
	_, err := w.parts.NextPart()
	switch {
	case err == nil:
		return errBadPart
	case errors.Is(err, io.EOF):
		return nil
	default:
		return errorf(kindBadRequest, "reading multipart body: %w", err)
	}
}

// Read reads the body, looking for the closing delimiter as it passes.
func (w *closeWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if !w.closed && n > 0 {
		// The delimiter may straddle two reads.
		k := len(w.delim) - 1
		joined := append(w.tail, p[:min(n, k)]...)
		w.closed = bytes.Contains(joined, w.delim) || bytes.Contains(p[:n], w.delim)
		if n >= k {
			joined = p[n-k : n]
		}
		w.tail = append([]byte(nil), joined[max(len(joined)-k, 0):]...)
	}
	if err != nil {
		w.ended = true
	}
	return n, err
}

// idleBody returns r's body, whose every read fails once the connection
// has brought nothing for the shell's upload idle timeout. Where the
// connection takes no deadline (HTTP/2, a test's recorder) the body is
// returned as it is.
func (s *shell) idleBody(w http.ResponseWriter, r *http.Request) io.Reader {
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.cfg.UploadIdleTimeout)); err != nil {
		return r.Body
	}
	return &idleBody{r: r.Body, rc: rc, idle: s.cfg.UploadIdleTimeout}
}

// idleBody moves the connection's read deadline on before each read, so
// that only a read making no progress for idle fails.
type idleBody struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

// Read reads the body within the idle timeout.
func (b *idleBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(b.idle))
	n, err := b.r.Read(p)
	if err != nil {
		// At the body's end net/http starts a read of its own, to see
		// the client leave; it must not fail a command still at work
		// on what it read.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errorf(kindBadRequest, "the upload stalled: no byte for %s (shell.upload_idle_timeout): %w", b.idle, err)
	}
	return n, err
}
