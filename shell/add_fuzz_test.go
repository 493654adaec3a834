package shell

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"testing"

	"github.com/ipfs/boxo/files"
)

// fuzzBoundary is the boundary of the seed bodies.
const fuzzBoundary = "cairnfuzzboundary"

// seedUploads are multipart bodies as Kubo's clients send them: files,
// a directory with a nested file and a symlink, and an empty file.
func seedUploads(f *testing.F) [][]byte {
	var out [][]byte
	for _, parts := range [][]struct{ name, ctype, body string }{
		{{"file", "application/octet-stream", "hello"}},
		{{"a.txt", "application/octet-stream", "first"}, {"b.txt", "application/octet-stream", ""}},
		{{"dir", "application/x-directory", ""}, {"dir%2Fin.txt", "application/octet-stream", "inside"}, {"dir%2Flink", "application/symlink", "in.txt"}},
	} {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if err := mw.SetBoundary(fuzzBoundary); err != nil {
			f.Fatal(err)
		}
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="file"; filename="`+p.name+`"`)
			h.Set("Content-Type", p.ctype)
			w, err := mw.CreatePart(h)
			if err != nil {
				f.Fatal(err)
			}
			io.WriteString(w, p.body)
		}
		mw.Close()
		out = append(out, buf.Bytes())
	}
	return out
}

// FuzzUploadBody feeds add's body parser arbitrary bodies, as multipart
// (with an arbitrary boundary) or as a single octet-stream file, and
// reads every file of the tree it yields as the importer would. It must
// not panic; and a multipart tree read without an error must have come
// from a body holding its closing boundary: an upload cut short must
// never pass for a whole one.
func FuzzUploadBody(f *testing.F) {
	for _, body := range seedUploads(f) {
		f.Add(body, fuzzBoundary, false)
		f.Add(body[:len(body)/2], fuzzBoundary, false)
	}
	f.Add([]byte("just bytes"), "", true)
	s := &shell{cfg: Config{}.withDefaults()}
	f.Fuzz(func(t *testing.T, body []byte, boundary string, octet bool) {
		ctype := mime.FormatMediaType("multipart/form-data", map[string]string{"boundary": boundary})
		if octet {
			ctype = "application/octet-stream"
		}
		if ctype == "" {
			return
		}
		r := httptest.NewRequest(http.MethodPost, "/api/v0/add", bytes.NewReader(body))
		r.Header.Set("Content-Type", ctype)
		dir, err := s.uploadedFiles(httptest.NewRecorder(), r)
		if err != nil {
			return
		}
		budget := 10_000
		if err := readTree(dir, &budget); err != nil || octet {
			return
		}
		if !bytes.Contains(body, []byte("--"+boundary+"--")) {
			t.Fatalf("a multipart body without its closing boundary was read whole")
		}
	})
}

// readTree reads every file under dir to its end, as an import does,
// visiting at most *budget entries.
func readTree(dir files.Directory, budget *int) error {
	it := dir.Entries()
	for it.Next() {
		if *budget--; *budget < 0 {
			return errors.New("too many entries")
		}
		nd := it.Node()
		var err error
		switch nd := nd.(type) {
		case *files.Symlink:
		case files.File:
			_, err = io.Copy(io.Discard, nd)
		case files.Directory:
			err = readTree(nd, budget)
		}
		nd.Close()
		if err != nil {
			return err
		}
	}
	return it.Err()
}
