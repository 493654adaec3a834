package client_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestPinsAndGC(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()
	kept, gone := b.AddBlock([]byte("kept")), b.AddBlock([]byte("gone"))

	if got, err := c.PinAdd(ctx, false, kept); err != nil || !slices.Equal(got, []cid.Cid{kept}) {
		t.Fatalf("PinAdd = %v, %v", got, err)
	}
	var pins []client.Pin
	if err := c.PinLs(ctx, "", nil, func(p client.Pin) error { pins = append(pins, p); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pins, []client.Pin{{Cid: kept, Type: "direct"}}) {
		t.Fatalf("PinLs = %v", pins)
	}
	err := c.PinLs(ctx, "", []cid.Cid{gone}, func(client.Pin) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "is not pinned") {
		t.Fatalf("PinLs of an unpinned CID: err = %v", err)
	}

	var removed []cid.Cid
	if err := c.RepoGC(ctx, func(k cid.Cid) error { removed = append(removed, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, []cid.Cid{gone}) {
		t.Fatalf("RepoGC removed %v, want %v", removed, gone)
	}
	if got, err := c.PinRm(ctx, kept); err != nil || !slices.Equal(got, []cid.Cid{kept}) {
		t.Fatalf("PinRm = %v, %v", got, err)
	}
}

func TestRepoStatAndVerify(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{RepoVersion: "1"}, b)
	ctx := context.Background()
	bad := b.AddBlock([]byte("12345"))
	st, err := c.RepoStat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (client.RepoStat{NumObjects: 1, RepoSize: 5, StorageMax: 1 << 30, RepoPath: "/fake/repo", Version: "cairn-repo@1"}); st != want {
		t.Fatalf("RepoStat = %+v, want %+v", st, want)
	}
	if msg, err := c.RepoVerify(ctx, nil); err != nil || !strings.Contains(msg, "all 1 blocks validated") {
		t.Fatalf("RepoVerify on a sound repo = %q, %v", msg, err)
	}
	b.Corrupt(bad)
	var corrupt []cid.Cid
	_, err = c.RepoVerify(ctx, func(k cid.Cid) error { corrupt = append(corrupt, k); return nil })
	if !slices.Equal(corrupt, []cid.Cid{bad}) || err == nil || !strings.Contains(err.Error(), "1 of 1 blocks were corrupt") {
		t.Fatalf("RepoVerify = %v, %v", corrupt, err)
	}
}

func TestDAGImportExport(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()
	car := []byte("CAR bytes")
	roots, err := c.DAGImport(ctx, bytes.NewReader(car), true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []client.DAGRoot{{Cid: shelltest.RawCid(car)}}; !slices.Equal(roots, want) {
		t.Fatalf("DAGImport = %v, want %v", roots, want)
	}
	rc, err := c.DAGExport(ctx, roots[0].Cid)
	if got := readAll(t, rc, err); !bytes.Equal(got, car) {
		t.Fatalf("DAGExport = %q", got)
	}
	if _, err := c.DAGImport(ctx, strings.NewReader("bad CAR"), true); err == nil || !strings.Contains(err.Error(), "hash mismatch") {
		t.Fatalf("DAGImport of a bad CAR: err = %v", err)
	}
}

// A collection that meets unreadable pinned blocks goes on to the end,
// removing what it can, and fails with what it skipped; verify --repair
// reports each damaged block repaired.
func TestRepoGCSkippedAndVerifyRepair(t *testing.T) {
	b := shelltest.New()
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()
	pinned, gone := b.AddBlock([]byte("pinned")), b.AddBlock([]byte("gone"))
	if _, err := c.PinAdd(ctx, true, pinned); err != nil {
		t.Fatal(err)
	}
	b.Corrupt(pinned)
	var removed []cid.Cid
	err := c.RepoGC(ctx, func(k cid.Cid) error { removed = append(removed, k); return nil })
	if !slices.Equal(removed, []cid.Cid{gone}) || err == nil || !strings.Contains(err.Error(), "skipped "+pinned.String()) {
		t.Fatalf("RepoGC = %v, %v; want %s removed and %s skipped", removed, err, gone, pinned)
	}
	var repaired []cid.Cid
	msg, err := c.RepoVerifyRepair(ctx, func(k cid.Cid, ok bool) error {
		if ok {
			repaired = append(repaired, k)
		}
		return nil
	})
	if err != nil || !slices.Equal(repaired, []cid.Cid{pinned}) || !strings.Contains(msg, "all repaired") {
		t.Fatalf("RepoVerifyRepair = %q, %v, repaired %v", msg, err, repaired)
	}
}
