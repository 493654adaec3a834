package content

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"
)

func TestPinsPersistAcrossReopen(t *testing.T) {
	ctx := testContext(t)
	dir := t.TempDir()
	data := randomBytes(2<<20+7, 5)

	// First life: import pinned, put a block pinned directly, close all.
	ds, err := OpenDatastore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(ctx, nil, nil, ds, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	file, err := c.Import(ctx, bytes.NewReader(data), ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	block, err := c.PutBlock(ctx, []byte("a direct pin"), "raw", "", -1, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.Pins(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Pins after Close: err = %v, want ErrClosed", err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}

	// Second life: the pins and the blocks are there.
	ds, err = OpenDatastore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ds.Close() })
	c = newTestContent(t, nil, nil, ds, DefaultConfig())
	pins, err := c.Pins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Pin{{Cid: file.Cid, Recursive: true}, {Cid: block, Recursive: false}}
	if !slices.Equal(pins, want) {
		t.Fatalf("Pins after reopen = %v, want %v", pins, want)
	}
	nd, err := c.Node(ctx, file.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if got := readNode(t, nd); string(got) != string(data) {
		t.Fatal("file read after reopen differs from the one imported")
	}

	if err := c.Unpin(ctx, file.Cid); err != nil {
		t.Fatal(err)
	}
	if err := c.Unpin(ctx, file.Cid); !errors.Is(err, pin.ErrNotPinned) {
		t.Fatalf("second Unpin: err = %v, want pin.ErrNotPinned", err)
	}
	pins, err = c.Pins(ctx)
	if err != nil || !slices.Equal(pins, want[1:]) {
		t.Fatalf("Pins after Unpin = %v, %v; want %v", pins, err, want[1:])
	}
}

func TestPinLocalContent(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	res := importBytes(t, c, randomBytes(1<<20+1, 6), ImportOptions{CIDVersion: -1})
	if pins, _ := c.Pins(ctx); len(pins) != 0 {
		t.Fatalf("unpinned import left pins %v", pins)
	}
	if err := c.Pin(ctx, res.Cid, true); err != nil {
		t.Fatal(err)
	}
	// Pinning again, directly, is refused: it is pinned recursively.
	if err := c.Pin(ctx, res.Cid, false); err == nil {
		t.Fatal("direct pin over a recursive one accepted")
	}
	pins, err := c.Pins(ctx)
	if err != nil || !slices.Equal(pins, []Pin{{Cid: res.Cid, Recursive: true}}) {
		t.Fatalf("Pins = %v, %v", pins, err)
	}
}

// TestPinFollowsLinksOfOtherCodecs: a recursive pin of a dag-json block needs
// the block it links to, which an offline node can only have locally.
func TestPinFollowsLinksOfOtherCodecs(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	leaf := []byte("the leaf")
	leafCID := rawCID(t, leaf)
	root, err := c.PutBlock(ctx, []byte(`{"l":{"/":"`+leafCID.String()+`"}}`), "dag-json", "", -1, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Pin(ctx, root, true); err == nil {
		t.Fatal("recursive pin succeeded without the linked block")
	}
	if _, err := c.PutBlock(ctx, leaf, "raw", "", -1, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Pin(ctx, root, true); err != nil {
		t.Fatalf("recursive pin of a dag-json root: %v", err)
	}
}
