package content

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// diskContent opens a Content over a repo on disk in dir; close closes
// both, for a test that reopens the repo.
func diskContent(t testing.TB, dir string, h host.Host, r Router, cfg Config) (c *Content, close func()) {
	t.Helper()
	ds, err := OpenDatastore(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err = New(t.Context(), h, r, ds, cfg)
	if err != nil {
		ds.Close()
		t.Fatal(err)
	}
	closed := false
	close = func() {
		if closed {
			return
		}
		closed = true
		if err := c.Close(); err != nil {
			t.Errorf("close content: %v", err)
		}
		if err := ds.Close(); err != nil {
			t.Errorf("close datastore: %v", err)
		}
	}
	t.Cleanup(close)
	return c, close
}

// harmPacks finds needle in the repo's packs, behind the store's back,
// and harms the pack there with harm(path, offset).
func harmPacks(t *testing.T, dir string, needle []byte, harm func(path string, raw []byte, off int) error) {
	t.Helper()
	packs, err := filepath.Glob(filepath.Join(dir, packsDir, "*.pack"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packs {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(raw, needle); i >= 0 {
			if err := harm(p, raw, i); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("the bytes to harm are in no pack")
}

func flipByte(path string, raw []byte, off int) error {
	raw[off+10] ^= 0x20
	return os.WriteFile(path, raw, 0o600)
}

func truncateThere(path string, _ []byte, off int) error { return os.Truncate(path, int64(off+5)) }

// leaf returns the bytes of data's i-th chunk under smallChunks.
func leaf(data []byte, i int) []byte { return data[i*4<<10 : (i+1)*4<<10] }

// Adding content again repairs a block of it that rotted on disk, even
// before any read found the damage. (Before, the store said it had the
// block, so the add skipped it and the damage stayed.)
func TestReAddRepairsADamagedBlock(t *testing.T) {
	dir, ctx := t.TempDir(), testContext(t)
	data := randomBytes(40<<10, 21)
	c, closeRepo := diskContent(t, dir, nil, nil, smallChunks())
	file := importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true})
	closeRepo()
	harmPacks(t, dir, leaf(data, 2)[:64], flipByte)

	c, _ = diskContent(t, dir, nil, nil, smallChunks())
	if again := importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true}); again.Cid != file.Cid {
		t.Fatalf("re-add gave %s, want %s", again.Cid, file.Cid)
	}
	res, err := c.Verify(ctx, false, nil)
	if err != nil || len(res.Damaged) != 0 {
		t.Fatalf("after the re-add, Verify: %v damaged, %v", res.Damaged, err)
	}
	wantReadable(t, c, file.Cid, data)
}

// Verify lists every damaged block — a flipped byte in one file, a pack
// cut short under another — and goes on to the end; a read of each is
// refused, and every other block reads. (Before, Verify stopped at the
// first block it could not read.)
func TestVerifyListsEveryDamagedBlockAndGoesOn(t *testing.T) {
	dir, ctx := t.TempDir(), testContext(t)
	one, two := randomBytes(40<<10, 22), randomBytes(40<<10, 23)
	c, closeRepo := diskContent(t, dir, nil, nil, smallChunks())
	importBytes(t, c, one, ImportOptions{CIDVersion: -1, Pin: true})
	importBytes(t, c, two, ImportOptions{CIDVersion: -1, Pin: true})
	closeRepo()
	harmPacks(t, dir, leaf(one, 3)[:64], flipByte)
	harmPacks(t, dir, leaf(two, 5)[:64], truncateThere)

	c, _ = diskContent(t, dir, nil, nil, smallChunks())
	var reported []cid.Cid
	res, err := c.Verify(ctx, false, func(d DamagedBlock) error {
		reported = append(reported, d.Cid)
		return nil
	})
	if err != nil {
		t.Fatalf("Verify stopped: %v", err)
	}
	// The flipped leaf, and every block of the second file from its
	// sixth leaf on: five leaves and the root.
	if len(res.Damaged) != 7 || len(reported) != 7 {
		t.Fatalf("Verify found %d damaged blocks (reported %d) of %d, want 7", len(res.Damaged), len(reported), res.Checked)
	}
	damaged := map[string]bool{}
	for _, k := range res.Damaged {
		damaged[string(k.Hash())] = true
	}
	for k := range localKeys(t, c) {
		_, err := c.bstore.Get(ctx, cid.NewCidV1(cid.Raw, []byte(k)))
		if damaged[k] != (err != nil) {
			t.Fatalf("block damaged=%v reads with err %v", damaged[k], err)
		}
		if damaged[k] && !errors.Is(err, ErrDamaged) {
			t.Fatalf("a damaged block reads with %v, want ErrDamaged", err)
		}
	}
	if again, err := c.Verify(ctx, false, nil); err != nil || len(again.Damaged) != 7 {
		t.Fatalf("a second Verify: %d damaged, %v; the damage must stay listed until repaired", len(again.Damaged), err)
	}
}

// A damaged block is never served — not read locally, not sent to a
// peer — and reading the file while a peer has it fetches the block
// again, which repairs it; verify --repair repairs the rest. (Before, a
// read of a damaged block failed and never fetched it.)
func TestDamagedBlockNeverServedAndFetchedAgain(t *testing.T) {
	ctx := testContext(t)
	routing := newFakeRouting()
	cfg := smallChunks()
	hA := newHost(t)
	a := newTestContent(t, hA, routing.routerFor(hA), NewMemoryDatastore(), cfg)
	data := randomBytes(40<<10, 24)
	file := importBytes(t, a, data, ImportOptions{CIDVersion: -1, Pin: true})
	routing.waitAnnounced(t, file.Cid)

	// C fetches and pins the file, then its disk rots under two leaves.
	dir := t.TempDir()
	hC := newHost(t)
	c, closeC := diskContent(t, dir, hC, routing.routerFor(hC), cfg)
	if err := c.Pin(ctx, file.Cid, true); err != nil {
		t.Fatal(err)
	}
	closeC()
	hC.Close()
	harmPacks(t, dir, leaf(data, 1)[:64], flipByte)
	harmPacks(t, dir, leaf(data, 6)[:64], flipByte)
	bad := leafCID(t, a, file.Cid, 1)

	// Offline, C refuses the damaged block: to a local read and to a
	// peer B that can reach only C.
	c, closeC = diskContent(t, dir, nil, nil, cfg)
	if _, err := c.GetBlock(ctx, bad); !errors.Is(err, ErrDamaged) {
		t.Fatalf("C's read of a damaged block: %v", err)
	}
	closeC()
	hC = newHost(t)
	c, closeC = diskContent(t, dir, hC, nil, cfg)
	hB := newHost(t)
	b := newTestContent(t, hB, nil, NewMemoryDatastore(), cfg)
	connect(t, hB, hC)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if blk, err := b.GetBlock(short, bad); err == nil {
		t.Fatalf("B got %d bytes of a block C holds damaged", len(blk.RawData()))
	}

	// Connected to A, C reads the file whole: the damaged leaves it
	// meets are fetched from A and stored again.
	connect(t, hC, hA)
	wantReadable(t, c, file.Cid, data)
	if res, err := c.Verify(ctx, false, nil); err != nil || len(res.Damaged) != 0 {
		t.Fatalf("after the read: %v damaged, %v", res.Damaged, err)
	}
	if _, err := b.GetBlock(ctx, bad); err != nil {
		t.Fatalf("B, once C is repaired: %v", err)
	}

	// Rot again; verify --repair fetches the block from A.
	closeC()
	harmPacks(t, dir, leaf(data, 3)[:64], flipByte)
	hC = newHost(t)
	c, _ = diskContent(t, dir, hC, nil, cfg)
	connect(t, hC, hA)
	res, err := c.Verify(ctx, true, nil)
	if err != nil || len(res.Damaged) != 1 || len(res.Repaired) != 1 {
		t.Fatalf("verify --repair: %d damaged, %d repaired, %v", len(res.Damaged), len(res.Repaired), err)
	}
	if res, err := c.Verify(ctx, false, nil); err != nil || len(res.Damaged) != 0 {
		t.Fatalf("after the repair: %v damaged, %v", res.Damaged, err)
	}
}

// leafCID is the CID of root's i-th link.
func leafCID(t *testing.T, c *Content, root cid.Cid, i int) cid.Cid {
	t.Helper()
	nd, err := c.dag.Get(testContext(t), root)
	if err != nil {
		t.Fatal(err)
	}
	return nd.Links()[i].Cid
}

func connect(t *testing.T, from, to host.Host) {
	t.Helper()
	if err := from.Connect(testContext(t), peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

// A pinned dag-pb node damaged on disk does not stop a collection: it is
// skipped and reported, the pin's readable blocks are kept, the rest of
// the repo collected.
func TestGCSkipsADamagedPinnedNode(t *testing.T) {
	dir, ctx := t.TempDir(), testContext(t)
	data := randomBytes(40<<10, 25)
	c, closeRepo := diskContent(t, dir, nil, nil, smallChunks())
	file := importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true, RawLeaves: new(false)})
	stray := importBytes(t, c, randomBytes(9000, 26), ImportOptions{CIDVersion: -1})
	closeRepo()
	harmPacks(t, dir, leaf(data, 4)[:64], flipByte)

	c, _ = diskContent(t, dir, nil, nil, smallChunks())
	var skipped []cid.Cid
	if _, err := c.GC(ctx, GCEvents{Skipped: func(k cid.Cid, err error) error {
		skipped = append(skipped, k)
		if !ipld.IsNotFound(err) {
			t.Errorf("skipped for %v", err)
		}
		return nil
	}}); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if len(skipped) != 1 || !skipped[0].Equals(leafCID(t, c, file.Cid, 4)) {
		t.Fatalf("GC skipped %v, want the damaged leaf", skipped)
	}
	if _, err := c.GetBlock(ctx, stray.Cid); !ipld.IsNotFound(err) {
		t.Fatalf("the unpinned file survived the GC: %v", err)
	}
	for i := range 10 {
		if i == 4 {
			continue
		}
		if _, err := c.GetBlock(ctx, leafCID(t, c, file.Cid, i)); err != nil {
			t.Fatalf("readable leaf %d of the pin: %v", i, err)
		}
	}
}

// The periodic scrub finds a block damaged on disk that nothing read and
// fetches it again from a peer.
func TestScrubRepairsWhatNothingRead(t *testing.T) {
	ctx := testContext(t)
	cfg := smallChunks()
	hA := newHost(t)
	a := newTestContent(t, hA, nil, NewMemoryDatastore(), cfg)
	data := randomBytes(40<<10, 27)
	file := importBytes(t, a, data, ImportOptions{CIDVersion: -1, Pin: true})

	dir := t.TempDir()
	c, closeC := diskContent(t, dir, nil, nil, cfg)
	importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true})
	closeC()
	harmPacks(t, dir, leaf(data, 7)[:64], flipByte)

	hC := newHost(t)
	c, _ = diskContent(t, dir, hC, nil, cfg)
	connect(t, hC, hA)
	c.scrubbed = make(chan VerifyResult)
	c.startScrub(10 * time.Millisecond)
	select {
	case res := <-c.scrubbed:
		if len(res.Damaged) != 1 || len(res.Repaired) != 1 {
			t.Fatalf("scrub: %d damaged, %d repaired; want the one leaf, repaired", len(res.Damaged), len(res.Repaired))
		}
	case <-ctx.Done():
		t.Fatal("no scrub ran")
	}
	wantReadable(t, c, file.Cid, data)
}

// A repo whose pack index entries predate checksums (layout 2 as first
// written) opens and reads: each block is re-hashed on its first read,
// and one that fails is damaged.
func TestPacksWithoutChecksumsAreHashedOnFirstRead(t *testing.T) {
	dir, ctx := t.TempDir(), testContext(t)
	data := randomBytes(40<<10, 28)
	c, closeRepo := diskContent(t, dir, nil, nil, smallChunks())
	file := importBytes(t, c, data, ImportOptions{CIDVersion: -1, Pin: true})
	closeRepo()
	// Cut every index entry back to pack, offset and length, as before
	// checksums, then rot one leaf.
	ds, err := OpenDatastore(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ds.Query(ctx, query.Query{Prefix: packIndexPrefix})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := res.Rest()
	if err != nil || len(entries) == 0 {
		t.Fatalf("%d index entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if err := ds.Put(ctx, datastore.NewKey(e.Key), e.Value[:16]); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	harmPacks(t, dir, leaf(data, 5)[:64], flipByte)

	c, _ = diskContent(t, dir, nil, nil, smallChunks())
	if _, err := c.GetBlock(ctx, leafCID(t, c, file.Cid, 5)); !errors.Is(err, ErrDamaged) {
		t.Fatalf("the rotten leaf of an old repo: %v", err)
	}
	for i := range 10 {
		if i == 5 {
			continue
		}
		if _, err := c.GetBlock(ctx, leafCID(t, c, file.Cid, i)); err != nil {
			t.Fatalf("leaf %d of an old repo: %v", i, err)
		}
	}
}
