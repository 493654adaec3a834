package client_test

import (
	"slices"
	"testing"

	"github.com/ipfs/boxo/files"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestAddNodeDirectoryAndLs(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{}, b)
	tree := files.NewMapDirectory(map[string]files.Node{
		"a.txt": files.NewBytesFile([]byte("A")),
		"sub":   files.NewMapDirectory(map[string]files.Node{"b.txt": files.NewBytesFile(make([]byte, 200<<10))}),
	})
	var names []string
	var progress []int64
	var sent int64
	res, err := c.AddNode(t.Context(), "dir", tree, client.AddOptions{Progress: true, Sent: func(n int64) { sent = n }}, func(ev client.AddEvent) error {
		if ev.Cid.Defined() {
			names = append(names, ev.Name)
		} else {
			progress = append(progress, ev.Bytes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dir/a.txt", "dir/sub/b.txt", "dir/sub", "dir"}; !slices.Equal(names, want) {
		t.Fatalf("events for %q, want %q", names, want)
	}
	if res.Name != "dir" || len(progress) == 0 || sent < 200<<10 {
		t.Fatalf("result %+v, progress %v, sent %d", res, progress, sent)
	}
	links, err := c.Ls(t.Context(), res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 || links[0].Name != "a.txt" || links[0].Type != client.TypeFile || links[0].Size != 1 || links[1].Type != client.TypeDirectory {
		t.Fatalf("ls: %+v", links)
	}
}
