package shell_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestRepoGCStreamsRemovedKeys(t *testing.T) {
	srv, b := fakeShell(t)
	kept, gone := b.AddBlock([]byte("kept")), b.AddBlock([]byte("gone"))
	post(t, srv, "/api/v0/pin/add?arg="+kept.String())

	r := post(t, srv, "/api/v0/repo/gc")
	if want := `{"Key":{"/":"` + gone.String() + `"}}` + "\n"; string(r.body) != want || r.header.Get("X-Chunked-Output") != "1" {
		t.Fatalf("repo/gc = %q (headers %v), want %q", r.body, r.header, want)
	}
	if b.HasBlock(gone) || !b.HasBlock(kept) {
		t.Fatal("repo/gc removed the wrong block")
	}
	if r := post(t, srv, "/api/v0/repo/gc"); r.status != http.StatusOK || len(r.body) != 0 {
		t.Fatalf("repo/gc with nothing to remove = %d %q, want 200 and no lines", r.status, r.body)
	}
}

func TestRepoStat(t *testing.T) {
	b := shelltest.New()
	srv := newShell(t, shell.Config{RepoVersion: "1"}, b)
	b.AddBlock([]byte("12345"))
	r := post(t, srv, "/api/v0/repo/stat")
	want := `{"RepoSize":5,"StorageMax":1073741824,"NumObjects":1,"RepoPath":"/fake/repo","Version":"cairn-repo@1"}` + "\n"
	if string(r.body) != want {
		t.Fatalf("repo/stat = %q, want %q", r.body, want)
	}
	if r := post(t, srv, "/api/v0/repo/stat?size-only=true"); string(r.body) != `{"RepoSize":5,"StorageMax":1073741824,"NumObjects":0,"RepoPath":"","Version":""}`+"\n" {
		t.Fatalf("repo/stat size-only = %q", r.body)
	}
}

func TestRepoVerify(t *testing.T) {
	srv, b := fakeShell(t)
	b.AddBlock([]byte("fine"))
	ok := jsonLines[struct{ Msg string }](t, post(t, srv, "/api/v0/repo/verify").body)
	if len(ok) != 1 || ok[0].Msg != "verify complete, all 1 blocks validated." {
		t.Fatalf("repo/verify on a sound repo = %+v", ok)
	}
	bad := b.AddBlock([]byte("bad"))
	b.Corrupt(bad)
	r := post(t, srv, "/api/v0/repo/verify")
	lines := jsonLines[struct{ Msg, Cid string }](t, r.body)
	if len(lines) != 1 || lines[0].Cid != bad.String() {
		t.Fatalf("repo/verify lines = %+v, want one naming %s", lines, bad)
	}
	if got := r.trailer.Get("X-Stream-Error"); got != "verify complete, 1 of 2 blocks were corrupt" {
		t.Fatalf("X-Stream-Error = %q", got)
	}
}

// repo/verify?repair=true says which damaged blocks it repaired and
// succeeds when all were.
func TestRepoVerifyRepair(t *testing.T) {
	srv, b := fakeShell(t)
	bad := b.AddBlock([]byte("bad"))
	b.Corrupt(bad)
	r := post(t, srv, "/api/v0/repo/verify?repair=true")
	lines := jsonLines[struct {
		Msg, Cid string
		Repaired bool
	}](t, r.body)
	if len(lines) != 2 || lines[0].Cid != bad.String() || !lines[0].Repaired || !strings.Contains(lines[1].Msg, "all repaired") {
		t.Fatalf("repo/verify?repair=true lines = %+v", lines)
	}
	if got := r.trailer.Get("X-Stream-Error"); got != "" {
		t.Fatalf("X-Stream-Error = %q after every block was repaired", got)
	}
}

// A pinned block the collection cannot read is sent as an error line, the
// rest of the collection goes on, and the command fails at the end.
func TestRepoGCReportsSkippedBlocks(t *testing.T) {
	srv, b := fakeShell(t)
	pinned, gone := b.AddBlock([]byte("pinned")), b.AddBlock([]byte("gone"))
	post(t, srv, "/api/v0/pin/add?arg="+pinned.String())
	b.Corrupt(pinned)
	r := post(t, srv, "/api/v0/repo/gc")
	lines := jsonLines[struct {
		Key struct {
			Link string `json:"/"`
		}
		Error string
	}](t, r.body)
	if len(lines) != 2 || lines[0].Key.Link != pinned.String() || !strings.Contains(lines[0].Error, "could not be read") || lines[1].Key.Link != gone.String() {
		t.Fatalf("repo/gc lines = %+v", lines)
	}
	if got := r.trailer.Get("X-Stream-Error"); !strings.Contains(got, "skipped 1 unreadable") {
		t.Fatalf("X-Stream-Error = %q", got)
	}
}
