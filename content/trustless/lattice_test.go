package trustless

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// latticeDepth makes a DAG of 41 blocks and 2^40 paths: a walk that
// visits a block once per path would not end within the test's life.
const latticeDepth = 40

// walked runs the walk for root and p over f's blocks, as WriteCAR
// does, and returns the blocks it listed and the steps it took.
func (f *fixture) walked(t *testing.T, root cid.Cid, p Params) (listed []cid.Cid, steps int) {
	t.Helper()
	w := newWalk(root, p)
	for {
		it, ok, err := w.next()
		if err != nil {
			t.Fatalf("walk: %v", err)
		}
		if !ok {
			return listed, w.steps
		}
		b, err := f.bs.GetBlock(context.Background(), it.c)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.visit(it, b.RawData()); err != nil {
			t.Fatalf("walk: %v", err)
		}
		listed = append(listed, it.c)
	}
}

// TestWalkLatticeIsLinear: under dups=n every walk lists each of a
// lattice's blocks once and takes a few steps per block, for a directory
// lattice under dag-scope=all and a file lattice under dag-scope=entity,
// whole and in ranges that cut subtrees at both ends. (Before the fix the
// walk expanded a block met again from memory: 2^40 steps.)
func TestWalkLatticeIsLinear(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	dir, err := lattice.Dir(ctx, f.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	file, err := lattice.File(ctx, f.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	const size = int64(1) << latticeDepth
	tests := []struct {
		name string
		root cid.Cid
		p    Params
	}{
		{"dir/all", dir, Params{Scope: gateway.DagScopeAll}},
		{"file/all", file, Params{Scope: gateway.DagScopeAll}},
		{"file/entity", file, Params{Scope: gateway.DagScopeEntity}},
		{"file/entity/middle", file, Params{Scope: gateway.DagScopeEntity, From: size/3 + 1, To: size - size/5, HasTo: true}},
		{"file/entity/tail", file, Params{Scope: gateway.DagScopeEntity, From: -12345}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			listed, steps := f.walked(t, tc.root, tc.p)
			if len(listed) != latticeDepth+1 {
				t.Errorf("%d blocks listed, want the lattice's %d", len(listed), latticeDepth+1)
			}
			distinct := map[cid.Cid]bool{}
			for _, c := range listed {
				distinct[c] = true
			}
			if len(distinct) != len(listed) {
				t.Errorf("%d blocks listed, %d distinct: a block was listed twice under dups=n", len(listed), len(distinct))
			}
			// Each node has two links: one step for the node, two for
			// its links, each expanded at most three times (at an end
			// of the range, then once wholly inside it).
			if limit := 8 * (latticeDepth + 1); steps > limit {
				t.Errorf("%d steps for %d blocks, want at most %d", steps, len(listed), limit)
			}
		})
	}
}

// TestLatticeCARMatchesBoxo: on lattices shallow enough for boxo's own
// traversal to finish, WriteCAR's CARs equal boxo's (so Kubo's) byte for
// byte, with and without duplicates, and ReadCAR accepts them.
func TestLatticeCARMatchesBoxo(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	dir, err := lattice.Dir(ctx, f.dag, 9)
	if err != nil {
		t.Fatal(err)
	}
	file, err := lattice.File(ctx, f.dag, 9)
	if err != nil {
		t.Fatal(err)
	}
	ranges := []*gateway.DagByteRange{nil, {From: 3, To: ptr(500)}, {From: 256, To: ptr(257)}, {From: -7}}
	for name, root := range map[string]cid.Cid{"dir": dir, "file": file} {
		for _, scope := range []gateway.DagScope{gateway.DagScopeAll, gateway.DagScopeEntity} {
			for _, dups := range []gateway.DuplicateBlocksPolicy{gateway.DuplicateBlocksExcluded, gateway.DuplicateBlocksIncluded} {
				for _, r := range ranges {
					if r != nil && scope != gateway.DagScopeEntity {
						continue
					}
					params := gateway.CarParams{Scope: scope, Duplicates: dups, Range: r, Order: gateway.DagOrderDFS}
					label := fmt.Sprintf("%s/%s/dups=%s/range=%s", name, scope, dups, rangeString(r))
					want, got := f.boxoCAR(t, root, params), f.ourCAR(t, root, params)
					if !bytes.Equal(want, got) {
						t.Errorf("%s: our CAR (%d bytes) differs from boxo's (%d bytes)", label, len(got), len(want))
						continue
					}
					p, _ := ParamsFromGateway(params)
					n := 0
					if err := ReadCAR(bytes.NewReader(got), root, p, func(Block) error { n++; return nil }); err != nil {
						t.Errorf("%s: ReadCAR refuses the CAR: %v", label, err)
					} else if n != len(sections(t, got)) {
						t.Errorf("%s: ReadCAR handed out %d blocks of %d", label, n, len(sections(t, got)))
					}
				}
			}
		}
	}
}

// TestWriteAndReadLatticeCAR: the deep lattice goes through WriteCAR and
// ReadCAR in one block per distinct block.
func TestWriteAndReadLatticeCAR(t *testing.T) {
	f := newFixture()
	root, err := lattice.Dir(context.Background(), f.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	body := f.ourCAR(t, root, gateway.CarParams{Scope: gateway.DagScopeAll})
	if n := len(sections(t, body)); n != latticeDepth+1 {
		t.Fatalf("the CAR holds %d blocks, want %d", n, latticeDepth+1)
	}
	n := 0
	if err := ReadCAR(bytes.NewReader(body), root, Params{Scope: gateway.DagScopeAll}, func(Block) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != latticeDepth+1 {
		t.Fatalf("ReadCAR handed out %d blocks, want %d", n, latticeDepth+1)
	}
}

// TestWriteCARStopsWithItsContext: a dups=y response on the lattice is
// 2^40 blocks long; once its context ends, WriteCAR returns at the next
// block, even from a block source that never looks at the context.
func TestWriteCARStopsWithItsContext(t *testing.T) {
	f := newFixture()
	root, err := lattice.Dir(context.Background(), f.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const cancelAt = 1000
	gets := 0
	get := func(_ context.Context, c cid.Cid) ([]byte, error) {
		if gets++; gets == cancelAt {
			cancel()
		}
		b, err := f.bs.GetBlock(context.Background(), c)
		if err != nil {
			return nil, err
		}
		return b.RawData(), nil
	}
	err = WriteCAR(ctx, io.Discard, get, root, Params{Scope: gateway.DagScopeAll, Dups: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteCAR: %v, want context.Canceled", err)
	}
	if gets != cancelAt {
		t.Fatalf("%d blocks read, want the walk to stop right after the %dth", gets, cancelAt)
	}
}

// TestEntityWalkRefusesInconsistentSizes: a file node whose own sizes
// disagree with its parent's blocksizes is refused, on both ends, rather
// than walked at offsets that are not the file's.
func TestEntityWalkRefusesInconsistentSizes(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	child, err := lattice.File(ctx, f.dag, 3) // 8 bytes
	if err != nil {
		t.Fatal(err)
	}
	fs := unixfs.NewFSNode(unixfs.TFile)
	fs.AddBlockSize(8)
	fs.AddBlockSize(1 << 30) // says the same child holds 1 GiB
	data, err := fs.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	top := merkledag.NodeWithData(data)
	for range 2 {
		if err := top.AddRawLink("", &ipld.Link{Cid: child}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.dag.Add(ctx, top); err != nil {
		t.Fatal(err)
	}
	p := Params{Scope: gateway.DagScopeEntity}
	err = WriteCAR(ctx, io.Discard, func(ctx context.Context, c cid.Cid) ([]byte, error) {
		b, err := f.bs.GetBlock(ctx, c)
		if err != nil {
			return nil, err
		}
		return b.RawData(), nil
	}, top.Cid(), p)
	if err == nil {
		t.Fatal("WriteCAR walked a file whose sizes disagree")
	}
}

// serveGateway serves f's blocks through boxo's gateway handler over the
// Backend, as the shell's gateway and the fast-path server do.
func (f *fixture) serveGateway(t *testing.T) *httptest.Server {
	t.Helper()
	b, err := NewBackend(f.bs)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gateway.NewHandler(gateway.Config{
		NoDNSLink:                true,
		MaxUnixFSDAGResponseSize: math.MaxInt64,
	}, b))
	t.Cleanup(srv.Close)
	return srv
}

// carRequest starts a GET of root's CAR with dups as asked.
func carRequest(t *testing.T, ctx context.Context, srv *httptest.Server, root cid.Cid, dups string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/ipfs/"+root.String()+"?format=car&dag-scope=all", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.ipld.car;version=1;order=dfs;dups="+dups)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", req.URL, resp.Status)
	}
	return resp
}

// TestGatewayServesLatticeAndStopsWhenTheClientLeaves: over HTTP, the
// 40-level lattice's dups=n CAR is its 41 blocks (on main the request
// never ended); a dups=y CAR, endless in practice, stops being written
// once its client has gone: no goroutine is left in WriteCAR.
func TestGatewayServesLatticeAndStopsWhenTheClientLeaves(t *testing.T) {
	f := newFixture()
	root, err := lattice.Dir(context.Background(), f.dag, latticeDepth)
	if err != nil {
		t.Fatal(err)
	}
	srv := f.serveGateway(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	resp := carRequest(t, ctx, srv, root, "n")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sections(t, body)); n != latticeDepth+1 {
		t.Fatalf("the dups=n CAR holds %d blocks, want %d", n, latticeDepth+1)
	}

	rctx, leave := context.WithCancel(ctx)
	resp = carRequest(t, rctx, srv, root, "y")
	if _, err := io.ReadFull(resp.Body, make([]byte, 1<<20)); err != nil {
		t.Fatalf("reading the start of the dups=y CAR: %v", err)
	}
	if !goroutineIn("trustless.WriteCAR") {
		t.Fatal("no goroutine is writing the CAR being read: the check below would prove nothing")
	}
	leave()
	resp.Body.Close()
	waitNoGoroutineIn(t, "trustless.WriteCAR")
}

// goroutineIn reports whether some goroutine's stack mentions fn.
func goroutineIn(fn string) bool {
	buf := make([]byte, 4<<20)
	return bytes.Contains(buf[:runtime.Stack(buf, true)], []byte(fn))
}

// waitNoGoroutineIn waits, for at most 20 s, until no goroutine's stack
// mentions fn.
func waitNoGoroutineIn(t *testing.T, fn string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for goroutineIn(fn) {
		select {
		case <-deadline:
			t.Fatalf("a goroutine is still in %s 20 s after its client left", fn)
		case <-tick.C:
		}
	}
}
