package shell

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
)

// addEvent is one line of add's output: a stored entry (Hash, Size) or,
// with progress=true, the bytes of a file read so far (Bytes). Kubo sends
// Size as a decimal string, and clients parse it that way.
type addEvent struct {
	Name  string
	Hash  string `json:",omitempty"`
	Bytes int64  `json:",omitempty"`
	Size  string `json:",omitempty"`
}

// add imports each uploaded file or directory tree and reports every
// entry as soon as it is stored, directories after their contents, reading
// the body as it arrives: a file is never held in memory whole. As in
// Kubo, each top-level part is imported (and pinned) on its own, unless
// wrap-with-directory puts them all in one unnamed directory.
func (s *shell) add(w http.ResponseWriter, r *http.Request) error {
	opts, flags, err := addOptions(r.URL.Query())
	if err != nil {
		return err
	}
	dir, err := s.uploadedFiles(w, r)
	if err != nil {
		return err
	}
	finish := fullDuplex(w, r)
	defer finish()
	// Reading the first part before answering lets an empty upload be a
	// proper error, even when wrapping would turn it into an empty folder.
	parts := dir.Entries()
	if !parts.Next() {
		return endOfParts(parts, 0)
	}
	var top files.Directory = &resumedDir{Directory: dir, it: parts}
	if flags.wrap {
		top = files.NewSliceDirectory([]files.DirEntry{files.FileEntry("", top)})
	}
	out := &jsonStream{w: w}
	it := top.Entries()
	for it.Next() {
		if err := s.addOne(r.Context(), out, it.Name(), it.Node(), opts, flags); err != nil {
			return err
		}
	}
	return endOfParts(parts, 1)
}

// addFlags are add's options that shape the response, not the DAG.
type addFlags struct {
	wrap     bool
	progress bool
}

// addOne imports one top-level entry and emits its events.
func (s *shell) addOne(ctx context.Context, out *jsonStream, name string, nd files.Node, opts AddOptions, flags addFlags) error {
	defer nd.Close()
	_, isDir := nd.(files.Directory)
	opts.Name = name
	// Entry names are paths under the top-level part, as in Kubo's output.
	nameOf := func(p string) string {
		if !isDir && name != "" {
			return name
		}
		return path.Join(name, p)
	}
	events := AddEvents{Added: func(p string, res AddResult, _ bool) error {
		n := nameOf(p)
		if p == "" && name == "" && !isDir {
			n = res.Cid.String() // as Kubo names a file read from stdin
		}
		return out.emit(addEvent{Name: n, Hash: res.Cid.String(), Size: strconv.FormatUint(res.Size, 10)})
	}}
	var emitErr error
	if flags.progress {
		events.Progress = func(p string, n int64) {
			if emitErr == nil {
				emitErr = out.emit(addEvent{Name: nameOf(p), Bytes: n})
			}
		}
	}
	_, err := s.backend.AddNode(ctx, nd, opts, events)
	if err == nil {
		err = emitErr
	}
	if err != nil {
		what := "adding " + strconv.Quote(name)
		return timedOut(ctx, fmt.Errorf("%s: %w", what, err), what+" did not finish")
	}
	return nil
}

// resumedDir is an upload whose iterator has already been advanced once:
// its Entries carries on from there, yielding that first part again.
type resumedDir struct {
	files.Directory
	it files.DirIterator
}

// Entries returns the upload's iterator, rewound by one part.
func (d *resumedDir) Entries() files.DirIterator {
	return &resumedIter{DirIterator: d.it, first: true}
}

type resumedIter struct {
	files.DirIterator
	first bool
}

func (it *resumedIter) Next() bool {
	if it.first {
		it.first = false
		return true
	}
	return it.DirIterator.Next()
}

// regularFile accepts only plain files, for commands that store one file's
// bytes as they are: a symlink's "content" would be its target path, which
// is not what anyone means to store.
func regularFile(name string, nd files.Node) (files.File, error) {
	_, isLink := nd.(*files.Symlink)
	f, isFile := nd.(files.File)
	if isLink || !isFile {
		nd.Close()
		return nil, errorf(kindBadRequest, "%q is a directory or a symlink: only single files can be uploaded here", name)
	}
	return f, nil
}

// uploadReadBuffer is how much of a multipart body is read from the
// connection at once: 256 KiB.
const uploadReadBuffer = 256 << 10

// uploadedFiles reads the body as Kubo's clients send files, a
// multipart/form-data body with one part per file, decoded lazily; or, as
// Cairn's CLI sends a single file, an application/octet-stream body that
// is the file's bytes, named by the filename of its Content-Disposition.
//
// The second form is ours. It saves the daemon what a multipart part
// costs: mime/multipart scans for the boundary in 4 KiB steps and copies
// every byte twice more, about a fifth of the daemon's CPU in a 1 GiB add
// (see README, Benchmarks).
//
// Either way a file whose body ends early (the connection dropped before
// the closing boundary, or before the declared length) fails to read,
// rather than ending as a shorter file with a CID of its own, and a body
// that brings nothing for shell.upload_idle_timeout fails (idleBody).
func (s *shell) uploadedFiles(w http.ResponseWriter, r *http.Request) (files.Directory, error) {
	if mediatype, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mediatype == "application/octet-stream" {
		return singleFile(r, s.idleBody(w, r))
	}
	return s.multipartFiles(w, r)
}

// multipartFiles reads the body as Kubo's clients send files: a
// multipart/form-data body, one part per file, decoded lazily.
func (s *shell) multipartFiles(w http.ResponseWriter, r *http.Request) (files.Directory, error) {
	mediatype, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediatype != "multipart/form-data" {
		return nil, errorf(kindBadRequest, "expected a multipart/form-data body with the file in a part named \"file\"")
	}
	// The body is read from the connection in pieces as large as it has
	// ready: mime/multipart alone made every 4 KiB of an upload one read
	// (260,000 for 1 GiB).
	boundary := params["boundary"]
	if boundary == "" {
		return nil, errorf(kindBadRequest, "reading multipart body: no boundary in the Content-Type")
	}
	end := newCloseWatch(s.idleBody(w, r), boundary)
	end.parts = multipart.NewReader(bufio.NewReaderSize(end, uploadReadBuffer), boundary)
	dir, err := files.NewFileFromPartReader(end.parts, mediatype)
	if err != nil {
		return nil, errorf(kindBadRequest, "reading multipart body: %w", err)
	}
	return wholeDir{dir, errPartCut, end, true}, nil
}

// singleFile is an application/octet-stream upload: one file, its bytes
// the body, read by the importer straight from the connection.
func singleFile(r *http.Request, body io.Reader) (files.Directory, error) {
	var name string
	if cd := r.Header.Get("Content-Disposition"); cd != "" {
		_, params, err := mime.ParseMediaType(cd)
		if err != nil {
			return nil, errorf(kindBadRequest, "reading Content-Disposition: %w", err)
		}
		name = params["filename"]
		if strings.Contains(name, "/") || name == "." || name == ".." {
			return nil, errorf(kindBadRequest, "file name %q is not a single path element", name)
		}
	}
	f := wholeFile{files.NewReaderFile(body), errBodyCut}
	return files.NewSliceDirectory([]files.DirEntry{files.FileEntry(name, f)}), nil
}

// endOfParts reports a broken body, or one that carried no file at all.
func endOfParts(it files.DirIterator, n int) error {
	if err := it.Err(); err != nil {
		return errorf(kindBadRequest, "reading multipart body: %w", err)
	}
	if n == 0 {
		return errorf(kindBadRequest, "no file in the request: send it as a multipart part named \"file\"")
	}
	return nil
}

// unsupportedAddOptions would change the resulting CIDs; ignoring them would
// hand back CIDs the caller did not ask for.
var unsupportedAddOptions = []string{"trickle", "inline", "nocopy", "preserve-mode", "preserve-mtime"}

// addOptions reads add's parameters. quiet, quieter, silent, recursive and
// hidden are accepted and need nothing here: in Kubo too they act on the
// client side (output, and which local files are sent).
func addOptions(q url.Values) (AddOptions, addFlags, error) {
	for _, name := range unsupportedAddOptions {
		if on, err := boolParam(q, name, false); err != nil || on {
			return AddOptions{}, addFlags{}, errorf(kindBadRequest, "option %q is not supported yet", name)
		}
	}
	if h := q.Get("hash"); h != "" && h != "sha2-256" {
		return AddOptions{}, addFlags{}, errorf(kindBadRequest, "hash %q is not supported yet: only sha2-256", h)
	}
	for _, name := range []string{"quiet", "quieter", "silent", "recursive", "hidden"} {
		if _, err := boolParam(q, name, false); err != nil {
			return AddOptions{}, addFlags{}, err
		}
	}
	var flags addFlags
	var err error
	if flags.wrap, err = boolParam(q, "wrap-with-directory", false); err != nil {
		return AddOptions{}, addFlags{}, err
	}
	if flags.progress, err = boolParam(q, "progress", false); err != nil {
		return AddOptions{}, addFlags{}, err
	}
	opts, err := dagOptions(q)
	return opts, flags, err
}

// dagOptions reads the parameters that shape the DAG, hence the CIDs.
func dagOptions(q url.Values) (AddOptions, error) {
	opts := AddOptions{CIDVersion: -1}
	var err error
	if opts.CIDVersion, err = cidVersion(q); err != nil {
		return AddOptions{}, err
	}
	if opts.RawLeaves, err = rawLeaves(q, opts.CIDVersion); err != nil {
		return AddOptions{}, err
	}
	if opts.ChunkSize, opts.Chunker, err = chunker(q.Get("chunker")); err != nil {
		return AddOptions{}, err
	}
	if opts.Pin, err = boolParam(q, "pin", true); err != nil {
		return AddOptions{}, err
	}
	opts.OnlyHash, err = boolParam(q, "only-hash", false)
	return opts, err
}

func cidVersion(q url.Values) (int, error) {
	v, set, err := intParam(q, "cid-version", -1)
	if err != nil {
		return 0, err
	}
	if set && v != 0 && v != 1 {
		return 0, errorf(kindBadRequest, "cid-version %d is not supported: use 0 or 1", v)
	}
	return int(v), nil
}

// rawLeaves follows Kubo: asking for CIDv1 implies raw leaves unless the
// caller says otherwise.
func rawLeaves(q url.Values, cidVersion int) (*bool, error) {
	if !q.Has("raw-leaves") {
		if cidVersion == 1 {
			return new(true), nil
		}
		return nil, nil
	}
	b, err := boolParam(q, "raw-leaves", false)
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// chunker reads Kubo's chunker parameter: "size-N" becomes a chunk size
// (0 for the node's default); any other spec boxo's chunker knows
// ("rabin-MIN-AVG-MAX", "rabin", "buzhash") is passed on as it is.
func chunker(spec string) (int, string, error) {
	if spec == "" || spec == "default" {
		return 0, "", nil
	}
	n, ok := strings.CutPrefix(spec, "size-")
	if !ok {
		if _, err := chunk.FromString(strings.NewReader(""), spec); err != nil {
			// boxo's message repeats the spec as it came, newlines too.
			why := strings.Join(strings.Fields(err.Error()), " ")
			return 0, "", errorf(kindBadRequest, "chunker %q is not supported: %s (use size-<bytes>, rabin-<min>-<avg>-<max> or buzhash)", spec, why)
		}
		return 0, spec, nil
	}
	size, err := strconv.Atoi(n)
	if err != nil {
		return 0, "", errorf(kindBadRequest, "chunker %q is not supported: use size-<bytes>", spec)
	}
	if size <= 0 || size > chunk.ChunkSizeLimit {
		return 0, "", errorf(kindBadRequest, "chunker %q: size must be between 1 and %d bytes", spec, chunk.ChunkSizeLimit)
	}
	return size, "", nil
}
