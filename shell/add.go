package shell

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
)

// addEvent is one line of add's output. Kubo sends Size as a decimal
// string, and clients parse it that way.
type addEvent struct {
	Name string
	Hash string `json:",omitempty"`
	Size string `json:",omitempty"`
}

// add imports each uploaded file and reports it as soon as it is stored,
// reading the body as it arrives: a file is never held in memory whole.
func (s *shell) add(w http.ResponseWriter, r *http.Request) error {
	opts, err := addOptions(r.URL.Query())
	if err != nil {
		return err
	}
	dir, err := multipartFiles(r)
	if err != nil {
		return err
	}
	enableFullDuplex(w)
	out := &jsonStream{w: w}
	added := 0
	it := dir.Entries()
	for it.Next() {
		ev, err := s.addOne(r.Context(), it.Name(), it.Node(), opts)
		if err != nil {
			return err
		}
		if err := out.emit(ev); err != nil {
			return err
		}
		added++
	}
	return endOfParts(it, added)
}

func (s *shell) addOne(ctx context.Context, name string, nd files.Node, opts AddOptions) (addEvent, error) {
	f, err := regularFile(name, nd)
	if err != nil {
		return addEvent{}, err
	}
	defer f.Close()
	opts.Name = name
	res, err := s.backend.Add(ctx, f, opts)
	if err != nil {
		return addEvent{}, timedOut(ctx, fmt.Errorf("adding %q: %w", name, err), fmt.Sprintf("adding %q did not finish", name))
	}
	if name == "" {
		name = res.Cid.String() // as Kubo names a file read from stdin
	}
	return addEvent{Name: name, Hash: res.Cid.String(), Size: strconv.FormatUint(res.Size, 10)}, nil
}

// regularFile accepts only plain files: directory uploads come later, and a
// symlink's "content" would be its target path, which is not what anyone
// means to store.
func regularFile(name string, nd files.Node) (files.File, error) {
	_, isLink := nd.(*files.Symlink)
	f, isFile := nd.(files.File)
	if isLink || !isFile {
		nd.Close()
		return nil, errorf(kindBadRequest, "%q is a directory or a symlink: only single files can be uploaded for now", name)
	}
	return f, nil
}

// multipartFiles reads the body as Kubo's clients send files: a
// multipart/form-data body, one part per file, decoded lazily.
func multipartFiles(r *http.Request) (files.Directory, error) {
	mediatype, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediatype != "multipart/form-data" {
		return nil, errorf(kindBadRequest, "expected a multipart/form-data body with the file in a part named \"file\"")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, errorf(kindBadRequest, "reading multipart body: %w", err)
	}
	dir, err := files.NewFileFromPartReader(mr, mediatype)
	if err != nil {
		return nil, errorf(kindBadRequest, "reading multipart body: %w", err)
	}
	return dir, nil
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
var unsupportedAddOptions = []string{"wrap-with-directory", "trickle", "inline", "nocopy"}

func addOptions(q url.Values) (AddOptions, error) {
	for _, name := range unsupportedAddOptions {
		if on, err := boolParam(q, name, false); err != nil || on {
			return AddOptions{}, errorf(kindBadRequest, "option %q is not supported yet", name)
		}
	}
	if h := q.Get("hash"); h != "" && h != "sha2-256" {
		return AddOptions{}, errorf(kindBadRequest, "hash %q is not supported yet: only sha2-256", h)
	}
	opts := AddOptions{CIDVersion: -1}
	var err error
	if opts.CIDVersion, err = cidVersion(q); err != nil {
		return AddOptions{}, err
	}
	if opts.RawLeaves, err = rawLeaves(q, opts.CIDVersion); err != nil {
		return AddOptions{}, err
	}
	if opts.ChunkSize, err = chunkSize(q.Get("chunker")); err != nil {
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

// chunkSize reads Kubo's "size-N" chunker; 0 means the node's default.
func chunkSize(spec string) (int, error) {
	if spec == "" || spec == "default" {
		return 0, nil
	}
	n, ok := strings.CutPrefix(spec, "size-")
	size, err := strconv.Atoi(n)
	if !ok || err != nil {
		return 0, errorf(kindBadRequest, "chunker %q is not supported: use size-<bytes>", spec)
	}
	if size <= 0 || size > chunk.ChunkSizeLimit {
		return 0, errorf(kindBadRequest, "chunker %q: size must be between 1 and %d bytes", spec, chunk.ChunkSizeLimit)
	}
	return size, nil
}
