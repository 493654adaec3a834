package trustless

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/boxo/ipld/unixfs/importer/trickle"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	ipld "github.com/ipfs/go-ipld-format"
)

// fixture is a block service holding test DAGs.
type fixture struct {
	bs  blockservice.BlockService
	dag ipld.DAGService
}

func newFixture() *fixture {
	bs := blockservice.New(blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore())), nil)
	return &fixture{bs: bs, dag: merkledag.NewDAGService(bs)}
}

// file imports data as a UnixFS file with small chunks and few links per
// node, so that even small files make deep trees.
func (f *fixture) file(t testing.TB, data []byte, rawLeaves, useTrickle bool) cid.Cid {
	t.Helper()
	prefix := merkledag.V1CidPrefix()
	db, err := (&helpers.DagBuilderParams{
		Dagserv:    f.dag,
		Maxlinks:   4,
		RawLeaves:  rawLeaves,
		CidBuilder: prefix,
	}).New(chunk.NewSizeSplitter(bytes.NewReader(data), 1000))
	if err != nil {
		t.Fatal(err)
	}
	var nd ipld.Node
	if useTrickle {
		nd, err = trickle.Layout(db)
	} else {
		nd, err = balanced.Layout(db)
	}
	if err != nil {
		t.Fatal(err)
	}
	return nd.Cid()
}

// boxoCAR is the CAR boxo's own backend writes for root and params.
func (f *fixture) boxoCAR(t *testing.T, root cid.Cid, params gateway.CarParams) []byte {
	t.Helper()
	bb, err := gateway.NewBlocksBackend(f.bs)
	if err != nil {
		t.Fatal(err)
	}
	_, rc, err := bb.GetCAR(context.Background(), path.FromCid(root), params)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ourCAR is the CAR WriteCAR writes for root and params.
func (f *fixture) ourCAR(t testing.TB, root cid.Cid, params gateway.CarParams) []byte {
	t.Helper()
	p, err := ParamsFromGateway(params)
	if err != nil {
		t.Fatal(err)
	}
	get := func(ctx context.Context, c cid.Cid) ([]byte, error) {
		b, err := f.bs.GetBlock(ctx, c)
		if err != nil {
			return nil, err
		}
		return b.RawData(), nil
	}
	var buf bytes.Buffer
	if err := WriteCAR(context.Background(), &buf, get, root, p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ptr(v int64) *int64 { return &v }

// TestWriteCARMatchesBoxo checks that WriteCAR lists the same blocks in
// the same order as boxo's gateway, byte for byte, over files with deep
// trees, duplicate leaves, both layouts and both leaf kinds, for every
// scope, byte ranges at and between block boundaries, and both dups
// policies.
func TestWriteCARMatchesBoxo(t *testing.T) {
	f := newFixture()
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 23_456)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	// Repeated chunks make duplicate leaves and duplicate subtrees.
	repeated := bytes.Repeat(random[:1000], 40)

	files := map[string]cid.Cid{
		"balanced-raw":   f.file(t, random, true, false),
		"balanced-pb":    f.file(t, random, false, false),
		"trickle-raw":    f.file(t, random, true, true),
		"repeated-raw":   f.file(t, repeated, true, false),
		"repeated-pb":    f.file(t, repeated, false, true),
		"one-block-file": f.file(t, random[:10], true, false),
	}
	ranges := []*gateway.DagByteRange{
		nil,
		{From: 0, To: ptr(0)},
		{From: 999, To: ptr(1000)},  // across a leaf boundary
		{From: 1000, To: ptr(1999)}, // exactly one leaf
		{From: 5_500, To: ptr(17_321)},
		{From: 20_000},
		{From: -3000},
		{From: 100, To: ptr(-100)},
		{From: 50_000}, // past the end
	}
	for name, root := range files {
		for _, scope := range []gateway.DagScope{gateway.DagScopeAll, gateway.DagScopeEntity, gateway.DagScopeBlock} {
			for _, dups := range []gateway.DuplicateBlocksPolicy{gateway.DuplicateBlocksExcluded, gateway.DuplicateBlocksIncluded} {
				for _, r := range ranges {
					if r != nil && scope != gateway.DagScopeEntity {
						continue
					}
					params := gateway.CarParams{Scope: scope, Duplicates: dups, Range: r, Order: gateway.DagOrderDFS}
					label := fmt.Sprintf("%s/%s/dups=%s/range=%v", name, scope, dups, rangeString(r))
					want, got := f.boxoCAR(t, root, params), f.ourCAR(t, root, params)
					if !bytes.Equal(want, got) {
						t.Errorf("%s: our CAR (%d bytes) differs from boxo's (%d bytes)", label, len(got), len(want))
					}
				}
			}
		}
	}
}

func rangeString(r *gateway.DagByteRange) string {
	if r == nil {
		return "none"
	}
	if r.To == nil {
		return fmt.Sprintf("%d:*", r.From)
	}
	return fmt.Sprintf("%d:%d", r.From, *r.To)
}
