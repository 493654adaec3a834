package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/ipfs/go-cid"
	"golang.org/x/sys/unix"
)

// fileFixture is a files socket over an offline content layer holding one
// file.
type fileFixture struct {
	srv    *fileServer
	socket string
	root   cid.Cid
	data   []byte
}

func newFileFixture(t *testing.T) *fileFixture {
	t.Helper()
	ctx := t.Context()
	c, err := content.New(ctx, nil, nil, content.NewMemoryDatastore(), content.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	data := make([]byte, 3<<20+17)
	rand.NewChaCha8([32]byte{7}).Read(data)
	res, err := c.Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1})
	if err != nil {
		t.Fatal(err)
	}
	// A short directory: socket names are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "fds")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv, err := startFileServer(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &fileFixture{srv: srv, socket: filepath.Join(dir, FilesSocket), root: res.Cid, data: data}
}

func fdContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestGetIntoAPassedFile: the daemon writes the file into a descriptor the
// client opened, which keeps the mode the client gave it, over stale
// longer content; progress is reported; the socket is the user's alone.
func TestGetIntoAPassedFile(t *testing.T) {
	fx := newFileFixture(t)
	st, err := os.Stat(fx.socket)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Mode().Type() != os.ModeSocket {
		t.Fatalf("socket mode %v, want a socket with 0600", st.Mode())
	}
	path := filepath.Join(t.TempDir(), "out")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), len(fx.data)+999), 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var last int64
	n, err := client.GetToFile(fdContext(t), fx.socket, fx.root, f, 0, func(p int64) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(fx.data)) || !bytes.Equal(got, fx.data) {
		t.Fatalf("size %d, file of %d bytes; want %d, equal", n, len(got), len(fx.data))
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v, want the client's 0640", st.Mode().Perm())
	}
	if last > n {
		t.Fatalf("progress %d past the size %d", last, n)
	}
}

// TestCatIntoAPipe: cat writes the file in order into a pipe.
func TestCatIntoAPipe(t *testing.T) {
	fx := newFileFixture(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		read <- b
	}()
	n, err := client.CatToFile(fdContext(t), fx.socket, fx.root, w, 0, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := <-read; n != int64(len(fx.data)) || !bytes.Equal(got, fx.data) {
		t.Fatalf("cat: %d bytes, %d through the pipe; want %d, equal", n, len(got), len(fx.data))
	}
}

// TestFilesSocketRefusesBadInput: wrong descriptors, requests and peers
// get a one-line error, and nothing is written.
func TestFilesSocketRefusesBadInput(t *testing.T) {
	fx := newFileFixture(t)
	dir := t.TempDir()
	open := func(name string, flag int) *os.File {
		f, err := os.OpenFile(filepath.Join(dir, name), flag|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	get := func(f *os.File, c cid.Cid) error {
		_, err := client.GetToFile(fdContext(t), fx.socket, c, f, 0, nil)
		return err
	}
	if err := get(open("ro", os.O_RDONLY), fx.root); err == nil || !strings.Contains(err.Error(), "not open for writing") {
		t.Errorf("read-only file: %v", err)
	}
	if err := get(open("app", os.O_WRONLY|os.O_APPEND), fx.root); err == nil || !strings.Contains(err.Error(), "appending") {
		t.Errorf("append mode: %v", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := get(d, fx.root); err == nil {
		t.Error("a directory was accepted")
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if err := get(w, fx.root); err == nil || !strings.Contains(err.Error(), "regular file") {
		t.Errorf("get into a pipe: %v", err)
	}
	absent, _ := cid.Decode("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy")
	if _, err := client.GetToFile(t.Context(), fx.socket, absent, open("absent", os.O_WRONLY), 100*time.Millisecond, nil); err == nil {
		t.Error("content the node does not have was written")
	}

	// Raw messages: no descriptor, two, junk, an oversized request.
	f1, f2 := open("a", os.O_WRONLY), open("b", os.O_WRONLY)
	req, _ := json.Marshal(client.FileRequest{Op: client.OpGet, Cid: fx.root.String()})
	for name, msg := range map[string]struct {
		body []byte
		fds  []int
	}{
		"no descriptor":   {req, nil},
		"two descriptors": {req, []int{int(f1.Fd()), int(f2.Fd())}},
		"junk":            {[]byte("{junk"), []int{int(f1.Fd())}},
		"unknown op":      {[]byte(`{"op":"rm","cid":"` + fx.root.String() + `"}`), []int{int(f1.Fd())}},
		"bad CID":         {[]byte(`{"op":"get","cid":"nope"}`), []int{int(f1.Fd())}},
		"oversized":       {bytes.Repeat([]byte(" "), client.MaxFileRequest+10), []int{int(f1.Fd())}},
	} {
		if reply := rawRequest(t, fx.socket, msg.body, msg.fds); reply.Error == "" || reply.Done {
			t.Errorf("%s: reply %+v, want an error", name, reply)
		}
	}
	for _, f := range []*os.File{f1, f2} {
		if st, _ := f.Stat(); st.Size() != 0 {
			t.Errorf("%s: %d bytes written after a refused request", f.Name(), st.Size())
		}
	}

	// Another user is refused: a server whose own uid is made another.
	other, err := os.MkdirTemp("", "fds")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(other)
	srv, err := startFileServerFor(other, fx.srv.content, os.Getuid()+1)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	_, err = client.GetToFile(fdContext(t), filepath.Join(other, FilesSocket), fx.root, open("other", os.O_WRONLY), 0, nil)
	if err == nil || !strings.Contains(err.Error(), "may not use") {
		t.Errorf("another uid: %v", err)
	}
}

// rawRequest sends body with fds on the files socket and returns the
// first reply line.
func rawRequest(t *testing.T, socket string, body []byte, fds []int) client.FileReply {
	t.Helper()
	nc, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if _, _, err := nc.(*net.UnixConn).WriteMsgUnix(body, oob, nil); err != nil {
		t.Fatal(err)
	}
	var r client.FileReply
	if err := json.NewDecoder(nc).Decode(&r); err != nil {
		t.Fatalf("reply: %v", err)
	}
	return r
}
