package fastpath

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/p2ptest"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
)

const testTimeout = 60 * time.Second

func testContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newHost starts a libp2p host on loopback TCP, closed when the test ends.
func newHost(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableMetrics())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func newStore() blockstore.Blockstore {
	return blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
}

// file is a test file imported into its own block store.
type file struct {
	data []byte
	root cid.Cid
	bs   blockstore.Blockstore
}

// newFile imports n random bytes with 256 KiB raw leaves and 16 links per
// node, so that a few MiB make a tree two levels deep.
func newFile(t testing.TB, n int, seed uint64) *file {
	t.Helper()
	return newFileLeaves(t, n, seed, true)
}

// newFileLeaves is newFile with raw leaves or, as Kubo's CIDv0 files
// have, dag-pb ones.
func newFileLeaves(t testing.TB, n int, seed uint64, raw bool) *file {
	t.Helper()
	data := make([]byte, n)
	var key [32]byte
	key[0] = byte(seed)
	rand.NewChaCha8(key).Read(data)
	bs := newStore()
	dag := merkledag.NewDAGService(blockservice.New(bs, nil))
	db, err := (&helpers.DagBuilderParams{
		Dagserv: dag, Maxlinks: 16, RawLeaves: raw, CidBuilder: merkledag.V1CidPrefix(),
	}).New(chunk.NewSizeSplitter(bytes.NewReader(data), 256<<10))
	if err != nil {
		t.Fatal(err)
	}
	nd, err := balanced.Layout(db)
	if err != nil {
		t.Fatal(err)
	}
	return &file{data: data, root: nd.Cid(), bs: bs}
}

// serve starts a fast-path server on a new host for the blocks in bs.
func serve(t testing.TB, bs blockstore.Blockstore) host.Host {
	t.Helper()
	h := newHost(t)
	s, err := NewServer(h, blockservice.New(bs, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return h
}

// connect connects h to each of peers, identified.
func connect(t testing.TB, h host.Host, peers ...host.Host) {
	t.Helper()
	p2ptest.ConnectIdentified(t, h, peers...)
}

// fetcher is the receiving side: a Fetcher and the store it fills.
type fetcher struct {
	*Fetcher
	h  host.Host
	bs blockstore.Blockstore
}

func newFetcher(t testing.TB, opts Options) *fetcher {
	t.Helper()
	h := newHost(t)
	f, err := NewFetcher(h, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return &fetcher{Fetcher: f, h: h, bs: newStore()}
}

func (f *fetcher) store(ctx context.Context, b blocks.Block) error { return f.bs.Put(ctx, b) }

// fetch runs a job for root to its end and returns it.
func (f *fetcher) fetch(t *testing.T, root cid.Cid) *Job {
	t.Helper()
	ctx := testContext(t)
	j, err := f.Fetch(ctx, root, f.store)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if j == nil {
		t.Fatal("Fetch found no peer serving the root")
	}
	t.Cleanup(j.Close)
	select {
	case <-j.Ended():
	case <-ctx.Done():
		t.Fatal("fetch did not end")
	}
	// Close waits for the blocks still queued for the store.
	j.Close()
	return j
}

// readLocal reads root from the fetcher's store alone.
func (f *fetcher) readLocal(t *testing.T, root cid.Cid) []byte {
	t.Helper()
	ctx := testContext(t)
	dag := merkledag.NewDAGService(blockservice.New(f.bs, nil))
	nd, err := dag.Get(ctx, root)
	if err != nil {
		t.Fatalf("root not stored: %v", err)
	}
	fn, err := unixfile.NewUnixfsFile(ctx, dag, nd)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(fn.(files.File)); err != nil {
		t.Fatalf("file not complete in the store: %v", err)
	}
	return buf.Bytes()
}

// onlyGoodBlocks checks that every block in the fetcher's store hashes to
// its CID and belongs to want's DAG.
func (f *fetcher) onlyGoodBlocks(t *testing.T, want blockstore.Blockstore) {
	t.Helper()
	ctx := testContext(t)
	keys, err := f.bs.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		b, err := f.bs.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if sum, err := k.Prefix().Sum(b.RawData()); err != nil || !sum.Equals(k) {
			t.Fatalf("stored block %s does not hash to its CID", k)
		}
		if ok, _ := want.Has(ctx, k); !ok {
			t.Fatalf("stored block %s is not part of the file", k)
		}
	}
}
