package shell_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell/shelltest"
)

// kuboBody encodes top-level entries as Kubo's CLI does (boxo's
// MultiFileReader): a part per file and per directory, directories as
// application/x-directory, names as slash-separated paths.
func kuboBody(entries ...files.DirEntry) (io.Reader, string) {
	mfr := files.NewMultiFileReader(files.NewSliceDirectory(entries), true, false)
	return mfr, "multipart/form-data; boundary=" + mfr.Boundary()
}

func photos() files.Node {
	return files.NewMapDirectory(map[string]files.Node{
		"a.jpg":   files.NewBytesFile([]byte("jpeg bytes")),
		"empty":   files.NewBytesFile(nil),
		"nothing": files.NewMapDirectory(nil),
		"sub":     files.NewMapDirectory(map[string]files.Node{"b.txt": files.NewBytesFile([]byte("bee"))}),
	})
}

type event struct {
	Name, Hash, Size string
	Bytes            int64
}

func TestAddDirectoryAsKuboSendsIt(t *testing.T) {
	srv, b := fakeShell(t)
	body, ctype := kuboBody(files.FileEntry("photos", photos()))

	r := do(t, newPost(t, srv, "/api/v0/add?recursive=true", body, ctype))

	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	events := jsonLines[event](t, r.body)
	var names []string
	for _, ev := range events {
		names = append(names, ev.Name)
	}
	// Files as they are stored, each directory after its contents.
	want := []string{"photos/a.jpg", "photos/empty", "photos/nothing", "photos/sub/b.txt", "photos/sub", "photos"}
	if !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if events[0].Hash != shelltest.RawCid([]byte("jpeg bytes")).String() {
		t.Errorf("a.jpg reported as %+v", events[0])
	}
	root, err := cid.Decode(events[len(events)-1].Hash)
	if err != nil {
		t.Fatal(err)
	}
	nd, err := b.Node(t.Context(), root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := walk(t, nd), walk(t, photos()); !slices.Equal(got, want) {
		t.Fatalf("stored tree %q, want %q", got, want)
	}
}

// walk lists a tree as "path=content" lines ("path/" for directories).
func walk(t *testing.T, nd files.Node) []string {
	t.Helper()
	var out []string
	err := files.Walk(nd, func(p string, nd files.Node) error {
		if f, ok := nd.(files.File); ok {
			data, err := io.ReadAll(f)
			out = append(out, p+"="+string(data))
			return err
		}
		out = append(out, p+"/")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAddWrapWithDirectory(t *testing.T) {
	srv, _ := fakeShell(t)
	body, ctype := kuboBody(files.FileEntry("one.txt", files.NewBytesFile([]byte("1"))), files.FileEntry("two.txt", files.NewBytesFile([]byte("2"))))

	r := do(t, newPost(t, srv, "/api/v0/add?wrap-with-directory=true", body, ctype))

	events := jsonLines[event](t, r.body)
	if len(events) != 3 || events[0].Name != "one.txt" || events[1].Name != "two.txt" || events[2].Name != "" {
		t.Fatalf("events %+v, want one.txt, two.txt and the unnamed wrapper", events)
	}
	if c, err := cid.Decode(events[2].Hash); err != nil || c.Prefix().Codec != cid.DagProtobuf {
		t.Fatalf("wrapper reported as %q (%v), want a dag-pb CID", events[2].Hash, err)
	}
}

// TestAddStreamsProgress shows progress objects reach the client while the
// upload is still being sent: the second half goes only once a progress
// line for the first has been read.
func TestAddStreamsProgress(t *testing.T) {
	srv, _ := fakeShell(t)
	pr, pw := io.Pipe()
	half := bytes.Repeat([]byte{'x'}, 256<<10)
	sawProgress := make(chan struct{})
	file := files.NewReaderFile(io.MultiReader(bytes.NewReader(half), &gate{wait: sawProgress}, bytes.NewReader(half)))
	mfr := files.NewMultiFileReader(files.NewSliceDirectory([]files.DirEntry{files.FileEntry("big.bin", file)}), true, false)
	go func() {
		_, err := io.Copy(pw, mfr)
		pw.CloseWithError(err)
	}()

	resp, err := http.DefaultClient.Do(newPost(t, srv, "/api/v0/add?progress=true", pr, "multipart/form-data; boundary="+mfr.Boundary()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var events []event
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if len(events) == 0 {
			close(sawProgress)
		}
		events = append(events, ev)
	}
	if len(events) < 3 {
		t.Fatalf("events %+v, want progress then the result", events)
	}
	last := events[len(events)-1]
	if last.Name != "big.bin" || last.Hash == "" || last.Size != "524288" {
		t.Fatalf("last event %+v, want big.bin's result", last)
	}
	prev := int64(0)
	for _, ev := range events[:len(events)-1] {
		if ev.Name != "big.bin" || ev.Hash != "" || ev.Bytes <= prev {
			t.Fatalf("progress events %+v: want rising Bytes for big.bin", events)
		}
		prev = ev.Bytes
	}
	if prev != 512<<10 {
		t.Fatalf("last progress at %d bytes, want %d", prev, 512<<10)
	}
}

// gate blocks the upload until wait is closed, then reads as empty.
type gate struct{ wait <-chan struct{} }

func (g *gate) Read([]byte) (int, error) {
	select {
	case <-g.wait:
		return 0, io.EOF
	case <-time.After(10 * time.Second):
		return 0, errors.New("no progress reached the client while the upload was half sent")
	}
}

func TestLs(t *testing.T) {
	srv, _ := fakeShell(t)
	body, ctype := kuboBody(files.FileEntry("photos", photos()))
	events := jsonLines[event](t, do(t, newPost(t, srv, "/api/v0/add", body, ctype)).body)
	root := events[len(events)-1].Hash
	hash := map[string]string{}
	for _, ev := range events {
		hash[ev.Name] = ev.Hash
	}

	r := post(t, srv, "/api/v0/ls?arg="+root)

	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	want := `{"Objects":[{"Hash":"` + root + `","Links":[` +
		`{"Name":"a.jpg","Hash":"` + hash["photos/a.jpg"] + `","Size":10,"Type":2,"Target":""},` +
		`{"Name":"empty","Hash":"` + hash["photos/empty"] + `","Size":0,"Type":2,"Target":""},` +
		`{"Name":"nothing","Hash":"` + hash["photos/nothing"] + `","Size":0,"Type":1,"Target":""},` +
		`{"Name":"sub","Hash":"` + hash["photos/sub"] + `","Size":0,"Type":1,"Target":""}]}]}` + "\n"
	if string(r.body) != want {
		t.Fatalf("ls body\n%s\nwant\n%s", r.body, want)
	}

	stream := post(t, srv, "/api/v0/ls?stream=true&arg="+root)
	if n := len(strings.Split(strings.TrimSpace(string(stream.body)), "\n")); n != 4 {
		t.Fatalf("streamed ls sent %d values, want one per link: %s", n, stream.body)
	}
}
