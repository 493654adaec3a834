package shell_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"testing"

	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestCatRanges(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddFile([]byte("hello world")).String()
	tests := []struct {
		query string
		want  string
	}{
		{"arg=" + c, "hello world"},
		{"arg=/ipfs/" + c, "hello world"},
		{"arg=" + c + "&offset=6", "world"},
		{"arg=" + c + "&length=5", "hello"},
		{"arg=" + c + "&offset=3&length=100", "lo world"},
		{"arg=" + c + "&offset=11", ""},
		{"arg=" + c + "&offset=500", ""},
		{"arg=" + c + "&length=0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := post(t, srv, "/api/v0/cat?"+tt.query)
			if r.status != http.StatusOK || string(r.body) != tt.want {
				t.Fatalf("got %d %q, want 200 %q", r.status, r.body, tt.want)
			}
			if r.header.Get("X-Stream-Output") != "1" || r.header.Get("Content-Type") != "text/plain" {
				t.Errorf("headers %v, want Kubo's stream headers", r.header)
			}
			if got := r.header.Get("X-Content-Length"); got != strconv.Itoa(len(tt.want)) {
				t.Errorf("X-Content-Length = %q, want %d", got, len(tt.want))
			}
		})
	}
}

func TestCatSeveralFilesWithOffsetAcrossThem(t *testing.T) {
	srv, b := fakeShell(t)
	first, second := b.AddFile([]byte("abc")), b.AddFile([]byte("defgh"))
	r := post(t, srv, "/api/v0/cat?arg="+first.String()+"&arg="+second.String()+"&offset=4&length=3")
	if string(r.body) != "efg" {
		t.Fatalf("body = %q, want %q", r.body, "efg")
	}
}

func TestCatErrors(t *testing.T) {
	srv, b := fakeShell(t)
	dir := b.AddDirectory(map[string][]byte{"a": []byte("a")}).String()
	absent := shelltest.RawCid([]byte("never added")).String()
	tests := []struct {
		name   string
		query  string
		status int
		want   string
	}{
		{"malformed CID", "arg=notacid", http.StatusBadRequest, `invalid CID "notacid"`},
		{"no arg", "", http.StatusBadRequest, `argument "arg" is required`},
		{"ipns", "arg=/ipns/example.org", http.StatusBadRequest, "IPNS names are not supported"},
		{"sub path", "arg=/ipfs/" + dir + "/a", http.StatusBadRequest, "paths inside a DAG are not supported yet"},
		{"negative offset", "arg=" + dir + "&offset=-1", http.StatusBadRequest, "negative offset"},
		{"directory", "arg=" + dir, http.StatusBadRequest, "is a directory"},
		{"not found in time", "arg=" + absent + "&timeout=50ms", http.StatusGatewayTimeout, "content " + absent + " not found within 50ms"},
		{"bad timeout", "arg=" + dir + "&timeout=soon", http.StatusBadRequest, `invalid timeout "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, post(t, srv, "/api/v0/cat?"+tt.query), tt.status, tt.want)
		})
	}
}

func TestCatReportsMidStreamErrorInTrailer(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddBrokenFile([]byte("partial"), errors.New("peer went away"))

	r := post(t, srv, "/api/v0/cat?arg="+c.String())

	if r.status != http.StatusOK || string(r.body) != "partial" {
		t.Fatalf("got %d %q, want 200 with the bytes read before the failure", r.status, r.body)
	}
	if got := r.trailer.Get("X-Stream-Error"); got != "fetching "+c.String()+": peer went away" {
		t.Fatalf("X-Stream-Error trailer = %q", got)
	}
}

func TestGetSingleFileIsOneTarEntryNamedByCID(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddFile([]byte("tar me")).String()

	r := post(t, srv, "/api/v0/get?arg="+c)

	if r.status != http.StatusOK || r.header.Get("X-Stream-Output") != "1" {
		t.Fatalf("status %d, headers %v", r.status, r.header)
	}
	entries := untar(t, r.body)
	if len(entries) != 1 || entries[c] != "tar me" {
		t.Fatalf("tar entries = %v, want {%s: tar me}", entries, c)
	}
}

func TestGetDirectory(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddDirectory(map[string][]byte{"a.txt": []byte("A"), "b.txt": []byte("B")}).String()

	entries := untar(t, post(t, srv, "/api/v0/get?arg="+c).body)

	want := map[string]string{c: "<dir>", c + "/a.txt": "A", c + "/b.txt": "B"}
	if len(entries) != len(want) {
		t.Fatalf("entries = %v, want %v", entries, want)
	}
	for name, content := range want {
		if entries[name] != content {
			t.Errorf("entry %q = %q, want %q", name, entries[name], content)
		}
	}
}

func TestGetRejectsCompression(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddFile([]byte("x")).String()
	wantError(t, post(t, srv, "/api/v0/get?arg="+c+"&compress=true"), http.StatusBadRequest, "compress is not supported")
}

// untar maps entry names to contents, "<dir>" for directories.
func untar(t *testing.T, archive []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading tar: %v (entries so far %v)", err, sortedKeys(out))
		}
		if h.Typeflag == tar.TypeDir {
			out[h.Name] = "<dir>"
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = string(data)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
