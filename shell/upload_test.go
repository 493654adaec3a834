package shell_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// contentBackend is the fake backend with adds and GC done by a real
// content store, whose lock makes a collection wait for the adds in
// flight and later adds wait for the collection.
type contentBackend struct {
	*shelltest.Backend
	c *content.Content
}

func newContentBackend(t *testing.T) *contentBackend {
	t.Helper()
	c, err := content.New(t.Context(), nil, nil, content.NewMemoryDatastore(), content.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &contentBackend{Backend: shelltest.New(), c: c}
}

func (b *contentBackend) AddNode(ctx context.Context, nd files.Node, opts shell.AddOptions, events shell.AddEvents) (shell.AddResult, error) {
	iopts := content.ImportOptions{
		ChunkSize: opts.ChunkSize, Chunker: opts.Chunker, CIDVersion: opts.CIDVersion,
		RawLeaves: opts.RawLeaves, Pin: opts.Pin, OnlyHash: opts.OnlyHash, Progress: events.Progress,
	}
	if events.Added != nil {
		iopts.Added = func(a content.Added) error {
			return events.Added(a.Path, shell.AddResult{Cid: a.Cid, Size: a.Size}, a.Dir)
		}
	}
	res, err := b.c.ImportNode(ctx, nd, iopts)
	return shell.AddResult{Cid: res.Cid, Size: res.Size}, err
}

func (b *contentBackend) GC(ctx context.Context, removed func(cid.Cid) error, skipped func(cid.Cid, error) error) error {
	_, err := b.c.GC(ctx, content.GCEvents{Removed: removed, Skipped: skipped})
	return err
}

// rawPost sends a request on a connection of its own: headers with
// Content-Length declared, then body. A body shorter than declared is a
// connection that drops: the client's side ends there. (Not otherwise:
// net/http takes a client's half-close after a whole body for a client
// gone, and cancels the request.) It returns the response's status,
// body and X-Stream-Error trailer.
func rawPost(t *testing.T, srv *httptest.Server, path, contentType string, declared int, body []byte) (status int, out, streamErr string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, srv.Listener.Addr(), contentType, declared)
	conn.Write(body)
	if len(body) < declared {
		conn.(*net.TCPConn).CloseWrite()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Trailer.Get("X-Stream-Error")
}

// TestAddRefusesATruncatedUpload: an upload cut short, before its closing
// multipart boundary (the body ends there, or the connection drops before
// the declared length) or before the declared length of a single-file
// body, is an error with no CID for the bytes that came. On main the
// importer took the cut for the file's end and answered with the CID of
// the truncated bytes before the error trailer.
func TestAddRefusesATruncatedUpload(t *testing.T) {
	srv := newShell(t, shell.Config{}, newContentBackend(t))
	data := bytes.Repeat([]byte("0123456789abcdef"), 40_000) // 640 KB
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(data)
	mw.Close()
	whole := mp.Bytes()
	cut := whole[:len(whole)/2]

	// The whole upload is stored: the test's requests are sound.
	if status, out, _ := rawPost(t, srv, "/api/v0/add", mw.FormDataContentType(), len(whole), whole); status != http.StatusOK || !strings.Contains(out, `"Hash"`) {
		t.Fatalf("whole upload: %d %s", status, out)
	}
	// A directory whose second entry's part header is cut: mime/multipart
	// reports that as the end of the parts, and the directory would be
	// stored without the entry.
	var dp bytes.Buffer
	dw := multipart.NewWriter(&dp)
	for _, e := range []struct{ name, ctype, body string }{
		{"dir", "application/x-directory", ""},
		{"dir%2Fa.txt", "application/octet-stream", "first"},
		{"dir%2Fb.txt", "application/octet-stream", "second"},
	} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+e.name+`"`)
		h.Set("Content-Type", e.ctype)
		pw, _ := dw.CreatePart(h)
		io.WriteString(pw, e.body)
	}
	dw.Close()
	dirCut := dp.Bytes()[:bytes.Index(dp.Bytes(), []byte("dir%2Fb.txt"))]

	tests := []struct {
		name, contentType string
		declared          int
		body              []byte
		want              string
	}{
		{"multipart ends before its boundary", mw.FormDataContentType(), len(cut), cut, "closing multipart boundary"},
		{"multipart connection drops", mw.FormDataContentType(), len(whole), cut, "closing multipart boundary"},
		{"octet-stream connection drops", "application/octet-stream", len(data), data[:len(data)/2], "declared length"},
		{"directory cut in a part header", dw.FormDataContentType(), len(dirCut), dirCut, "closing multipart boundary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, out, streamErr := rawPost(t, srv, "/api/v0/add", tc.contentType, tc.declared, tc.body)
			if strings.Contains(out, `"Name":"dir"`) || strings.Contains(out, `"Name":"big.bin"`) || strings.Contains(out, `"Name":""`) {
				t.Fatalf("a CID was sent for a truncated upload: %d %s (%s)", status, out, streamErr)
			}
			if !strings.Contains(out+streamErr, tc.want) {
				t.Fatalf("got %d %q (trailer %q), want an error saying %q", status, out, streamErr, tc.want)
			}
		})
	}
}

// goroutineIn reports whether some goroutine's stack mentions fn.
func goroutineIn(fn string) bool {
	buf := make([]byte, 8<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(fn))
}

// waitUntil polls cond every 10 ms until it holds, failing the test after
// within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(within)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

// TestStalledUploadReleasesTheAddLock: a client stalls mid-upload while
// holding the add lock; a GC queues behind it and another add behind the
// GC. After shell.upload_idle_timeout the stalled add fails, and the GC
// and the other add complete; no goroutine is left behind. On main the
// stalled add held the lock for as long as its client kept the
// connection, and the other add never finished.
func TestStalledUploadReleasesTheAddLock(t *testing.T) {
	const idle = 2 * time.Second
	srv := newShell(t, shell.Config{UploadIdleTimeout: idle}, newContentBackend(t))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	before := runtime.NumGoroutine()

	// The stalled client: 300 KiB of its file, then nothing.
	pr, pw := io.Pipe()
	defer pw.Close()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", "stalled.bin")
		if err == nil {
			_, err = fw.Write(bytes.Repeat([]byte{'s'}, 300<<10))
		}
		if err != nil {
			pw.CloseWithError(err)
		}
	}()
	req := newPost(t, srv, "/api/v0/add?progress=true", pr, mw.FormDataContentType())
	stalled, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Body.Close()
	lines := bufio.NewScanner(stalled.Body)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"Bytes"`) {
		t.Fatalf("no progress from the stalled add: %q %v", lines.Text(), lines.Err())
	}
	// Its import reads the body, holding the lock.

	gcDone := make(chan result, 1)
	gcReq := newPost(t, srv, "/api/v0/repo/gc", nil, "")
	go func() { gcDone <- doWith(client, gcReq) }()
	waitUntil(t, 30*time.Second, "the GC waiting for the add lock", func() bool { return goroutineIn("content.(*Content).startGC") })

	body, contentType := multipartBody(t, namedFile{name: "other.txt", data: []byte("another add")})
	otherDone := make(chan result, 1)
	otherReq := newPost(t, srv, "/api/v0/add", body, contentType)
	go func() { otherDone <- doWith(client, otherReq) }()

	for _, wait := range []struct {
		what string
		ch   chan result
		want string
	}{{"the other add", otherDone, `"Hash"`}, {"the GC", gcDone, ""}} {
		select {
		case r := <-wait.ch:
			if r.status != http.StatusOK || !strings.Contains(string(r.body), wait.want) {
				t.Fatalf("%s: %d %s", wait.what, r.status, r.body)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not complete within 30 s of the stalled upload's %s idle timeout", wait.what, idle)
		}
	}
	rest, _ := io.ReadAll(stalled.Body)
	if got := string(rest) + stalled.Trailer.Get("X-Stream-Error"); !strings.Contains(got, "stalled") {
		t.Fatalf("the stalled add ended with %q, want an error saying it stalled", got)
	}

	pw.Close()
	stalled.Body.Close()
	waitUntil(t, 10*time.Second, fmt.Sprintf("goroutines back to %d", before), func() bool { return runtime.NumGoroutine() <= before })
}

// doWith sends req with client and reads the whole response.
func doWith(client *http.Client, req *http.Request) result {
	resp, err := client.Do(req)
	if err != nil {
		return result{status: -1, body: []byte(err.Error())}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: b}
}

// TestAddRefusesAPartItCannotPlace: boxo's parser ends an upload, without
// an error, at a part whose Content-Disposition it cannot read; the parts
// after it were dropped and the add answered as if it had them all. Now
// the add fails saying so. On main: 200 with a.txt alone.
func TestAddRefusesAPartItCannotPlace(t *testing.T) {
	srv := newShell(t, shell.Config{}, newContentBackend(t))
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, disposition := range []string{`form-data; name="file"; filename="a.txt"`, `form-data; name="file"; filename="b.txt`, `form-data; name="file"; filename="c.txt"`} {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", disposition)
		h.Set("Content-Type", "application/octet-stream")
		w, _ := mw.CreatePart(h)
		io.WriteString(w, "some bytes")
	}
	mw.Close()
	r := do(t, newPost(t, srv, "/api/v0/add", &buf, mw.FormDataContentType()))
	if got := string(r.body) + r.trailer.Get("X-Stream-Error"); !strings.Contains(got, "Content-Disposition") {
		t.Fatalf("add answered %d %q: want an error about the part it could not read", r.status, got)
	}
}
