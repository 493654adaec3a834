package shell_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestAddRoundTrip(t *testing.T) {
	srv, _ := fakeShell(t)
	data := []byte("hello world")
	body, ctype := multipartBody(t, namedFile{name: "hello.txt", data: data})

	r := do(t, newPost(t, srv, "/api/v0/add", body, ctype))

	if r.status != http.StatusOK || r.header.Get("X-Chunked-Output") != "1" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, headers %v, body %q", r.status, r.header, r.body)
	}
	c := shelltest.RawCid(data)
	// Byte for byte as Kubo: these field names, Size as a string.
	want := `{"Name":"hello.txt","Hash":"` + c.String() + `","Size":"11"}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body = %q, want %q", r.body, want)
	}
	if got := post(t, srv, "/api/v0/cat?arg="+c.String()); string(got.body) != string(data) {
		t.Fatalf("cat after add = %q, want %q", got.body, data)
	}
}

func TestAddSeveralFilesAndStdinName(t *testing.T) {
	srv, _ := fakeShell(t)
	body, ctype := multipartBody(t, namedFile{name: "a.txt", data: []byte("aaa")}, namedFile{name: "", data: []byte("from stdin")})

	r := do(t, newPost(t, srv, "/api/v0/add", body, ctype))

	events := jsonLines[map[string]string](t, r.body)
	if len(events) != 2 {
		t.Fatalf("got %d events, want 2: %q", len(events), r.body)
	}
	if events[0]["Name"] != "a.txt" {
		t.Errorf("first name = %q, want a.txt", events[0]["Name"])
	}
	// Kubo names an unnamed upload (stdin) by its CID.
	if stdin := shelltest.RawCid([]byte("from stdin")).String(); events[1]["Name"] != stdin || events[1]["Hash"] != stdin {
		t.Errorf("unnamed upload reported as %v, want Name and Hash %s", events[1], stdin)
	}
}

func TestAddOptions(t *testing.T) {
	tests := []struct {
		query string
		want  shell.AddOptions
	}{
		{"", shell.AddOptions{CIDVersion: -1, Pin: true}},
		{"?cid-version=0", shell.AddOptions{CIDVersion: 0, Pin: true}},
		{"?cid-version=1", shell.AddOptions{CIDVersion: 1, RawLeaves: new(true), Pin: true}},
		{"?cid-version=1&raw-leaves=false", shell.AddOptions{CIDVersion: 1, RawLeaves: new(false), Pin: true}},
		{"?chunker=size-1024&pin=false&only-hash=true&quiet=true&progress=true", shell.AddOptions{CIDVersion: -1, ChunkSize: 1024, OnlyHash: true}},
		{"?chunker=rabin-16384-65536-131072&recursive=true&hidden=true", shell.AddOptions{CIDVersion: -1, Chunker: "rabin-16384-65536-131072", Pin: true}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			srv, b := fakeShell(t)
			body, ctype := multipartBody(t, namedFile{name: "f", data: []byte("x")})
			if r := do(t, newPost(t, srv, "/api/v0/add"+tt.query, body, ctype)); r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			got := b.LastAdd()
			got.Name = ""
			if !sameAddOptions(got, tt.want) {
				t.Fatalf("backend got %+v (raw leaves %v), want %+v (raw leaves %v)", got, deref(got.RawLeaves), tt.want, deref(tt.want.RawLeaves))
			}
		})
	}
}

func sameAddOptions(a, b shell.AddOptions) bool {
	if (a.RawLeaves == nil) != (b.RawLeaves == nil) || (a.RawLeaves != nil && *a.RawLeaves != *b.RawLeaves) {
		return false
	}
	a.RawLeaves, b.RawLeaves = nil, nil
	return a == b
}

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestAddRejects(t *testing.T) {
	file := []namedFile{{name: "f", data: []byte("x")}}
	tests := []struct {
		name  string
		query string
		files []namedFile
		want  string
	}{
		{"no file", "", nil, "no file in the request"},
		{"unknown chunker", "?chunker=fastcdc-1", file, `chunker "fastcdc-1" is not supported`},
		{"bad rabin", "?chunker=rabin-10-5-1", file, `chunker "rabin-10-5-1" is not supported`},
		{"chunk too big", "?chunker=size-99999999", file, "size must be between 1 and"},
		{"cid version", "?cid-version=2", file, "cid-version 2 is not supported"},
		{"bad bool", "?pin=maybe", file, `option "pin": "maybe" is not a boolean`},
		{"trickle", "?trickle=true", file, `"trickle" is not supported`},
		{"wrapped nothing", "?wrap-with-directory=true", nil, "no file in the request"},
		{"hash", "?hash=blake3", file, `hash "blake3" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeShell(t)
			body, ctype := multipartBody(t, tt.files...)
			wantError(t, do(t, newPost(t, srv, "/api/v0/add"+tt.query, body, ctype)), http.StatusBadRequest, tt.want)
		})
	}
}

// TestAddOneFileAsItsBytes covers the body Cairn's CLI sends for a single
// file: its bytes alone, named by Content-Disposition (or unnamed, as from
// stdin); other bodies and bad names are refused.
func TestAddOneFileAsItsBytes(t *testing.T) {
	srv, _ := fakeShell(t)
	data := []byte("raw bytes")
	c := shelltest.RawCid(data).String()
	send := func(ctype, disposition string) result {
		req := newPost(t, srv, "/api/v0/add", bytes.NewReader(data), ctype)
		if disposition != "" {
			req.Header.Set("Content-Disposition", disposition)
		}
		return do(t, req)
	}
	for _, tt := range []struct{ disposition, name string }{
		{`attachment; filename="notes.txt"`, "notes.txt"},
		{`attachment; filename*=utf-8''caf%C3%A9.txt`, "café.txt"},
		{"", c},
	} {
		r := send("application/octet-stream", tt.disposition)
		want := `{"Name":"` + tt.name + `","Hash":"` + c + `","Size":"9"}` + "\n"
		if r.status != http.StatusOK || string(r.body) != want {
			t.Fatalf("Content-Disposition %q: %d %q, want %q", tt.disposition, r.status, r.body, want)
		}
	}
	wantError(t, send("application/octet-stream", `attachment; filename="a/b"`), http.StatusBadRequest, "not a single path element")
	wantError(t, send("application/octet-stream", `attachment; filename="unclosed`), http.StatusBadRequest, "Content-Disposition")
	wantError(t, send("text/plain", ""), http.StatusBadRequest, "multipart/form-data")
}

// TestAddStreamsUpload proves the shell hands the upload to the backend as
// it arrives: the client sends the second half only after the backend has
// read the first, which would never happen if the shell buffered the body.
func TestAddStreamsUpload(t *testing.T) {
	b := shelltest.New()
	progress := make(chan int64)
	b.AddProgress = progress
	srv := newShell(t, shell.Config{}, b)

	const half = 256 << 10
	firstHalfRead := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go watchProgress(progress, half, firstHalfRead, done)

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go sendInHalves(pw, mw, half, firstHalfRead)

	r := do(t, newPost(t, srv, "/api/v0/add", pr, mw.FormDataContentType()))

	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if got := jsonLines[map[string]string](t, r.body)[0]["Size"]; got != strconv.Itoa(2*half) {
		t.Fatalf("Size = %s, want %d", got, 2*half)
	}
}

func watchProgress(progress <-chan int64, half int64, reached chan<- struct{}, done <-chan struct{}) {
	for {
		select {
		case n := <-progress:
			if n >= half && reached != nil {
				close(reached)
				reached = nil
			}
		case <-done:
			return
		}
	}
}

func sendInHalves(pw *io.PipeWriter, mw *multipart.Writer, half int, firstHalfRead <-chan struct{}) {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="big.bin"`)
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err == nil {
		_, err = part.Write(bytes.Repeat([]byte{'a'}, half))
	}
	if err != nil {
		pw.CloseWithError(err)
		return
	}
	select {
	case <-firstHalfRead:
	case <-time.After(10 * time.Second):
		pw.CloseWithError(errors.New("the backend never saw the first half: the upload is being buffered"))
		return
	}
	if _, err := part.Write(bytes.Repeat([]byte{'b'}, half)); err != nil {
		pw.CloseWithError(err)
		return
	}
	pw.CloseWithError(mw.Close())
}

// TestAddAnswersEachFileAsItArrives checks full duplex: the client sends the
// second file's content only once it has read the first file's result.
func TestAddAnswersEachFileAsItArrives(t *testing.T) {
	srv, _ := fakeShell(t)
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	firstSeen := make(chan struct{})
	go func() {
		part(mw, "one.txt").Write([]byte("first"))
		// The next part's header is what ends the first part.
		second := part(mw, "two.txt")
		select {
		case <-firstSeen:
		case <-time.After(10 * time.Second):
			pw.CloseWithError(errors.New("no result for the first file while the second was pending"))
			return
		}
		second.Write([]byte("second"))
		pw.CloseWithError(mw.Close())
	}()

	resp, err := http.DefaultClient.Do(newPost(t, srv, "/api/v0/add", pr, mw.FormDataContentType()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"Name":"one.txt"`) {
		t.Fatalf("first line %q, err %v", lines.Text(), lines.Err())
	}
	close(firstSeen)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"Name":"two.txt"`) {
		t.Fatalf("second line %q, err %v", lines.Text(), lines.Err())
	}
}

func part(mw *multipart.Writer, name string) io.Writer {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", "application/octet-stream")
	w, err := mw.CreatePart(h)
	if err != nil {
		return io.Discard // the pipe is closed; the request reports why
	}
	return w
}

// countingBody counts the reads made of a request body.
type countingBody struct {
	r     io.Reader
	reads int
}

func (b *countingBody) Read(p []byte) (int, error) {
	b.reads++
	return b.r.Read(p)
}

// TestAddReadsBodyInLargePieces checks that an upload is read from the
// connection in large reads, not in the multipart reader's 4 KiB ones:
// each read of a connection is a system call.
func TestAddReadsBodyInLargePieces(t *testing.T) {
	h, err := shell.New(shell.Config{}, shelltest.New())
	if err != nil {
		t.Fatal(err)
	}
	const size = 4 << 20
	buf, contentType := multipartBody(t, namedFile{name: "big", data: bytes.Repeat([]byte{7}, size)})
	body := &countingBody{r: buf}
	req := httptest.NewRequest(http.MethodPost, "/api/v0/add", body)
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if got := jsonLines[map[string]string](t, rec.Body.Bytes())[0]["Size"]; got != strconv.Itoa(size) {
		t.Fatalf("Size = %s, want %d", got, size)
	}
	// 4 KiB reads would be over 1,000.
	if limit := size / (64 << 10); body.reads > limit {
		t.Fatalf("body read in %d reads, want at most %d", body.reads, limit)
	}
}
