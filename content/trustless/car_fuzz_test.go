package trustless

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	mh "github.com/multiformats/go-multihash"
)

// fuzzParams makes walk parameters from fuzzed numbers.
func fuzzParams(scope uint8, from, to int64, hasTo, dups bool) Params {
	p := Params{From: from, To: to, HasTo: hasTo, Dups: dups}
	switch scope % 3 {
	case 0:
		p.Scope = gateway.DagScopeAll
	case 1:
		p.Scope = gateway.DagScopeEntity
	default:
		p.Scope = gateway.DagScopeBlock
	}
	return p
}

// seedCARs are the CARs the fuzz targets start from: files, a directory
// lattice and a file lattice, whole and by range.
func seedCARs(f *testing.F) [][]byte {
	fx := newFixture()
	data := bytes.Repeat([]byte("cairn fuzz "), 300)
	ctx := context.Background()
	dir, err := lattice.Dir(ctx, fx.dag, 6)
	if err != nil {
		f.Fatal(err)
	}
	file, err := lattice.File(ctx, fx.dag, 6)
	if err != nil {
		f.Fatal(err)
	}
	hamt, err := lattice.HAMT(ctx, fx.dag, 3)
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, root := range []cid.Cid{fx.file(f, data, true, false), fx.file(f, data, false, true), dir, file, hamt} {
		out = append(out, fx.ourCAR(f, root, gateway.CarParams{Scope: gateway.DagScopeAll}))
	}
	return out
}

// carRoot is the first root a CAR's header names, or a fixed CID.
func carRoot(data []byte) cid.Cid {
	if br, err := car.NewBlockReader(bytes.NewReader(data)); err == nil && len(br.Roots) > 0 {
		return br.Roots[0]
	}
	return cid.MustParse("bafkqaaa")
}

// FuzzReadCAR feeds ReadCAR arbitrary streams under arbitrary
// parameters: it must end (with or without an error) without panicking,
// and hand out only blocks that hash to their CIDs.
func FuzzReadCAR(f *testing.F) {
	for _, c := range seedCARs(f) {
		f.Add(c, uint8(0), int64(0), int64(0), false, false)
		f.Add(c, uint8(1), int64(100), int64(5000), true, false)
		f.Add(c, uint8(1), int64(-30), int64(0), false, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, scope uint8, from, to int64, hasTo, dups bool) {
		root := carRoot(data)
		p := fuzzParams(scope, from, to, hasTo, dups)
		n := 0
		err := ReadCAR(bytes.NewReader(data), root, p, func(b Block) error {
			if sum, err := b.CID.Prefix().Sum(b.Data); err != nil || !sum.Equals(b.CID) {
				t.Fatalf("block %s handed out with bytes that do not hash to it", b.CID)
			}
			if n++; n > 1<<16 {
				return errors.New("enough")
			}
			return nil
		})
		_ = err
	})
}

// FuzzWalk serves the blocks of an arbitrary CAR with WriteCAR, under
// arbitrary parameters, and reads the result back with ReadCAR: what one
// end writes the other must accept, and under dups=n the walk's steps
// must stay within a few per link of the blocks it lists, however the
// DAG shares subtrees.
func FuzzWalk(f *testing.F) {
	for _, c := range seedCARs(f) {
		f.Add(c, uint8(0), int64(0), int64(0), false, false)
		f.Add(c, uint8(1), int64(7), int64(3000), true, false)
		f.Add(c, uint8(1), int64(-100), int64(0), false, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, scope uint8, from, to int64, hasTo, dups bool) {
		blocks, root, ok := fuzzBlocks(data)
		if !ok {
			return
		}
		p := fuzzParams(scope, from, to, hasTo, dups)
		get := func(_ context.Context, c cid.Cid) ([]byte, error) {
			b, ok := blocks[string(c.Hash())]
			if !ok {
				return nil, errors.New("no such block")
			}
			return b, nil
		}
		var out bytes.Buffer
		lw := &limitWriter{w: &out, n: 8 << 20}
		if err := WriteCAR(context.Background(), lw, get, root, p); err != nil {
			return // a DAG it cannot walk (missing block, bad node, too long)
		}
		if err := ReadCAR(bytes.NewReader(out.Bytes()), root, p, func(Block) error { return nil }); err != nil {
			t.Fatalf("ReadCAR refuses what WriteCAR wrote: %v", err)
		}
		if !p.Dups {
			checkSteps(t, blocks, root, p)
		}
	})
}

// checkSteps runs the walk again, counting its steps against the links of
// the blocks it lists (an identity CID's links, inside the CID, counted
// as its own).
func checkSteps(t *testing.T, blocks map[string][]byte, root cid.Cid, p Params) {
	w := newWalk(root, p)
	links := 1
	for {
		it, ok, err := w.next()
		if err != nil {
			t.Fatalf("second walk: %v", err)
		}
		if !ok {
			break
		}
		data := blocks[string(it.c.Hash())]
		if err := w.visit(it, data); err != nil {
			t.Fatalf("second walk: %v", err)
		}
		if nd := w.seen[it.c]; nd != nil {
			links += len(nd.links)
		} else if it.c.Type() != cid.Raw {
			ls, _ := otherLinks(it.c, data)
			links += len(ls)
		}
	}
	if hasIdentityLinks(blocks) {
		return // identity nodes are walked again at each place, by design
	}
	if w.steps > 4*links {
		t.Fatalf("%d steps for %d links of the listed blocks: the walk is not linear", w.steps, links)
	}
}

// hasIdentityLinks reports whether any block links to an identity CID.
func hasIdentityLinks(blocks map[string][]byte) bool {
	for _, data := range blocks {
		pn, err := merkledag.DecodeProtobuf(data)
		if err != nil {
			continue
		}
		for _, l := range pn.Links() {
			if l.Cid.Prefix().MhType == mh.IDENTITY {
				return true
			}
		}
	}
	return false
}

// fuzzBlocks reads a CAR's blocks (those whose bytes match their CIDs)
// keyed by multihash, and its first root.
func fuzzBlocks(data []byte) (map[string][]byte, cid.Cid, bool) {
	br, err := car.NewBlockReader(bytes.NewReader(data), car.MaxAllowedSectionSize(1<<20))
	if err != nil || len(br.Roots) == 0 {
		return nil, cid.Undef, false
	}
	blocks := map[string][]byte{}
	for len(blocks) < 4096 {
		b, err := br.Next()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		if sum, err := b.Cid().Prefix().Sum(b.RawData()); err == nil && sum.Equals(b.Cid()) {
			blocks[string(b.Cid().Hash())] = b.RawData()
		}
	}
	return blocks, br.Roots[0], true
}

// limitWriter fails once n bytes were written: a dups=y walk of a DAG
// that shares subtrees is as long as its paths.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, errors.New("response too long for the fuzz target")
	}
	l.n -= len(p)
	return l.w.Write(p)
}
