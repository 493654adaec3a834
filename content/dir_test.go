package content

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/unixfs"
	unixfs_pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"
)

// testTree is a small tree with nested folders, empty files, an empty
// folder and a symlink.
func testTree() files.Directory {
	return files.NewMapDirectory(map[string]files.Node{
		"a.txt": files.NewBytesFile([]byte("alpha")),
		"empty": files.NewBytesFile(nil),
		"void":  files.NewBytesFile(nil), // same CID as "empty", beside it
		"sub": files.NewMapDirectory(map[string]files.Node{
			"b.bin":   files.NewBytesFile(randomBytes(3<<20+7, 9)),
			"nothing": files.NewMapDirectory(nil),
			"deeper":  files.NewMapDirectory(map[string]files.Node{"c": files.NewBytesFile(nil)}),
		}),
		"link": files.NewLinkFile("sub/b.bin", nil),
	})
}

func TestImportTreeRoundTrip(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	var added []Added
	res, err := c.ImportNode(ctx, testTree(), ImportOptions{CIDVersion: -1, Pin: true, Added: func(a Added) error {
		added = append(added, a)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	last := added[len(added)-1]
	if last.Path != "" || !last.Cid.Equals(res.Cid) || !last.Dir || last.Size != res.Size {
		t.Fatalf("last event %+v, want the root %s", last, res.Cid)
	}
	var paths []string
	for _, a := range added[:len(added)-1] {
		paths = append(paths, a.Path)
	}
	want := []string{"a.txt", "empty", "link", "sub/b.bin", "sub/deeper/c", "sub/deeper", "sub/nothing", "sub", "void"}
	if !slices.Equal(paths, want) {
		t.Fatalf("events for %q, want %q", paths, want)
	}

	nd, err := c.Node(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	got := flatten(t, nd, "")
	wantTree := flatten(t, testTree(), "")
	if !slices.Equal(got, wantTree) {
		t.Fatalf("read back\n%q\nwant\n%q", got, wantTree)
	}

	entries, isDir, err := c.List(ctx, res.Cid)
	if err != nil || !isDir {
		t.Fatalf("List: %v, dir %v", err, isDir)
	}
	kinds := map[string]EntryType{}
	for _, e := range entries {
		kinds[e.Name] = e.Type
	}
	if kinds["a.txt"] != TypeFile || kinds["void"] != TypeFile || kinds["sub"] != TypeDirectory || kinds["link"] != TypeSymlink || len(entries) != 5 {
		t.Fatalf("List gave %+v", entries)
	}
}

// flatten lists a tree as "path kind sha" lines, in walk order.
func flatten(t *testing.T, nd files.Node, p string) []string {
	t.Helper()
	var out []string
	err := files.Walk(nd, func(fp string, nd files.Node) error {
		switch nd := nd.(type) {
		case *files.Symlink:
			out = append(out, fp+" -> "+nd.Target)
		case files.File:
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(nd); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%s file %x", fp, sum(buf.Bytes())))
		case files.Directory:
			out = append(out, fp+"/")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sum(b []byte) []byte {
	k, _ := cid.V1Builder{Codec: cid.Raw, MhType: 0x12}.Sum(b)
	return k.Hash()
}

// A directory whose block would pass 256 KiB becomes a HAMT with fanout
// 256; one just under stays a basic directory.
func TestImportDirectoryShardsPastThreshold(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	big := manyFiles(4000)
	res, err := c.ImportNode(ctx, big, ImportOptions{CIDVersion: -1})
	if err != nil {
		t.Fatal(err)
	}
	if typ := fsType(t, c, res.Cid); typ != unixfs.THAMTShard {
		t.Fatalf("4000 entries: root type %v, want a HAMT shard", typ)
	}
	entries, _, err := c.List(ctx, res.Cid)
	if err != nil || len(entries) != 4000 {
		t.Fatalf("List: %d entries, %v", len(entries), err)
	}
	nd, err := c.Node(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := flatten(t, nd, ""), flatten(t, manyFiles(4000), ""); !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("sharded directory reads back differently (%d vs %d entries)", len(got), len(want))
	}

	small, err := c.ImportNode(ctx, manyFiles(100), ImportOptions{CIDVersion: -1})
	if err != nil {
		t.Fatal(err)
	}
	if typ := fsType(t, c, small.Cid); typ != unixfs.TDirectory {
		t.Fatalf("100 entries: root type %v, want a basic directory", typ)
	}
}

func manyFiles(n int) files.Directory {
	m := map[string]files.Node{}
	for i := range n {
		m[fmt.Sprintf("file-with-a-rather-long-name-%06d.txt", i)] = files.NewBytesFile([]byte(fmt.Sprint(i)))
	}
	return files.NewMapDirectory(m)
}

func sorted(s []string) []string { slices.Sort(s); return s }

func fsType(t *testing.T, c *Content, k cid.Cid) unixfs_pb.Data_DataType {
	t.Helper()
	nd, err := c.dag.Get(testContext(t), k)
	if err != nil {
		t.Fatal(err)
	}
	fsn, err := unixfs.ExtractFSNode(nd)
	if err != nil {
		t.Fatal(err)
	}
	return fsn.Type()
}

func TestImportTreeProgressAndOptions(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	data := randomBytes(1<<20+5, 11)
	var reports []int64
	res, err := c.ImportNode(ctx, files.NewBytesFile(data), ImportOptions{CIDVersion: -1, Progress: func(p string, n int64) {
		reports = append(reports, n)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) < 2 || !slices.IsSorted(reports) || reports[len(reports)-1] != int64(len(data)) {
		t.Fatalf("progress %v, want rising counts ending at %d", reports, len(data))
	}
	v0, err := c.ImportNode(ctx, files.NewBytesFile(data), ImportOptions{CIDVersion: 0})
	if err != nil || v0.Cid.Version() != 0 || v0.Cid.Equals(res.Cid) {
		t.Fatalf("CIDv0 import: %s, %v", v0.Cid, err)
	}
	rabin, err := c.ImportNode(ctx, files.NewBytesFile(data), ImportOptions{CIDVersion: -1, Chunker: "rabin-65536-131072-262144"})
	if err != nil || rabin.Cid.Equals(res.Cid) {
		t.Fatalf("rabin import: %s, %v", rabin.Cid, err)
	}
	if _, err := c.ImportNode(ctx, files.NewBytesFile(data), ImportOptions{CIDVersion: -1, Chunker: "bogus-1"}); err == nil {
		t.Fatal("bogus chunker accepted")
	}
}
