package shell

import (
	"net/http"

	"github.com/ipfs/go-cid"
)

// lsLink is one entry of ls's output, in Kubo's shape.
type lsLink struct {
	Name   string
	Hash   string
	Size   uint64
	Type   EntryType
	Target string
}

// lsObject is one listed argument: a directory's links, or none for a
// file.
type lsObject struct {
	Hash  string
	Links []lsLink
}

type lsOutput struct {
	Objects []lsObject
}

// ls lists the directories named by its arguments as Kubo's ls does:
// {"Objects":[{"Hash","Links":[{"Name","Hash","Size","Type","Target"}]}]},
// a file listed with no links. With stream=true each link is its own
// JSON value as soon as it is known, as in Kubo.
func (s *shell) ls(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	stream, err := boolParam(q, "stream", false)
	if err != nil {
		return err
	}
	var out lsOutput
	js := &jsonStream{w: w}
	for i, c := range cids {
		obj, err := s.list(r, q["arg"][i], c)
		if err != nil {
			return err
		}
		if !stream {
			out.Objects = append(out.Objects, obj)
			continue
		}
		if err := emitLinks(js, obj); err != nil {
			return err
		}
	}
	if stream {
		return nil
	}
	return writeJSON(w, out)
}

// list lists one argument, named in the output as it was given.
func (s *shell) list(r *http.Request, arg string, c cid.Cid) (lsObject, error) {
	entries, _, err := s.backend.List(r.Context(), c)
	if err != nil {
		return lsObject{}, fetchError(r.Context(), c, err)
	}
	obj := lsObject{Hash: arg, Links: make([]lsLink, 0, len(entries))}
	for _, e := range entries {
		obj.Links = append(obj.Links, lsLink{Name: e.Name, Hash: e.Cid.String(), Size: e.Size, Type: e.Type, Target: e.Target})
	}
	return obj, nil
}

// emitLinks sends obj as Kubo's streaming ls does: one object per link,
// or one with no links for a file or an empty directory.
func emitLinks(js *jsonStream, obj lsObject) error {
	if len(obj.Links) == 0 {
		return js.emit(lsOutput{Objects: []lsObject{obj}})
	}
	for _, l := range obj.Links {
		if err := js.emit(lsOutput{Objects: []lsObject{{Hash: obj.Hash, Links: []lsLink{l}}}}); err != nil {
			return err
		}
	}
	return nil
}
