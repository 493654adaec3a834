package shell_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// newShell serves a shell over b on a loopback port for the test's life.
func newShell(t *testing.T, cfg shell.Config, b shell.Backend) *httptest.Server {
	t.Helper()
	h, err := shell.New(cfg, b)
	if err != nil {
		t.Fatalf("shell.New: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// fakeShell is newShell with default settings over a fresh fake.
func fakeShell(t *testing.T) (*httptest.Server, *shelltest.Backend) {
	t.Helper()
	b := shelltest.New()
	return newShell(t, shell.Config{}, b), b
}

// result is a whole response, trailers included.
type result struct {
	status  int
	header  http.Header
	body    []byte
	trailer http.Header
	url     string // where the response came from, after redirects
}

func (r result) kuboError(t *testing.T) kuboError {
	t.Helper()
	var e kuboError
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q is not Kubo's JSON error: %v", r.body, err)
	}
	if e.Type != "error" {
		t.Fatalf("error body %q: Type = %q, want \"error\"", r.body, e.Type)
	}
	return e
}

type kuboError struct {
	Message string
	Code    int
	Type    string
}

// do sends req and reads the whole response.
func do(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", req.URL, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: body, trailer: resp.Trailer}
}

// post sends an empty POST to path (with its query) on srv.
func post(t *testing.T, srv *httptest.Server, path string) result {
	t.Helper()
	return do(t, newPost(t, srv, path, nil, ""))
}

func newPost(t *testing.T, srv *httptest.Server, path string, body io.Reader, contentType string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// multipartBody encodes files the way Kubo's clients do: one form-data part
// per file, named "file", with the file name URL-escaped.
func multipartBody(t *testing.T, files ...namedFile) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+f.name+`"`)
		h.Set("Content-Type", f.contentType())
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

type namedFile struct {
	name string
	data []byte
	dir  bool
}

func (f namedFile) contentType() string {
	if f.dir {
		return "application/x-directory"
	}
	return "application/octet-stream"
}

// jsonLines decodes newline-delimited JSON into values of type T.
func jsonLines[T any](t *testing.T, body []byte) []T {
	t.Helper()
	var out []T
	for line := range strings.Lines(string(body)) {
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

// wantError checks a failed response's status and that its Kubo message
// contains want.
func wantError(t *testing.T, r result, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d (body %q)", r.status, status, r.body)
	}
	if got := r.kuboError(t).Message; !strings.Contains(got, want) {
		t.Fatalf("message = %q, want it to contain %q", got, want)
	}
}
