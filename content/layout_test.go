package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// addLog is a DAG service that notes every block added to it, in order.
type addLog struct {
	ipld.DAGService
	added []string
}

func (d *addLog) Add(ctx context.Context, nd ipld.Node) error {
	d.added = append(d.added, fmt.Sprintf("%s %x", nd.Cid(), nd.RawData()))
	return d.DAGService.Add(ctx, nd)
}

func (d *addLog) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		if err := d.Add(ctx, nd); err != nil {
			return err
		}
	}
	return nil
}

// layoutBoth builds data with boxo's balanced.Layout and with buildFile,
// read-ahead ahead, returning each's root (or error) and blocks added.
func layoutBoth(t *testing.T, data []byte, newSpl func(io.Reader) chunk.Splitter, params helpers.DagBuilderParams, ahead int) (want, got *addLog, wantRoot, gotRoot ipld.Node, wantErr, gotErr error) {
	t.Helper()
	want = &addLog{DAGService: mdtest.Mock()}
	params.Dagserv = want
	db, err := params.New(newSpl(bytes.NewReader(data)))
	if err != nil {
		t.Fatal(err)
	}
	wantRoot, wantErr = balanced.Layout(db)

	got = &addLog{DAGService: mdtest.Mock()}
	params.Dagserv = got
	spl := newSpl(bytes.NewReader(data))
	if db, err = params.New(spl); err != nil {
		t.Fatal(err)
	}
	leaves := newLeafSource(db, spl, 2, ahead)
	gotRoot, gotErr = balancedLayout(db, leaves)
	leaves.close()
	return want, got, wantRoot, gotRoot, wantErr, gotErr
}

// TestBuildFileMatchesBoxo checks that the parallel layout stores the very
// blocks, in the very order, that boxo's balanced importer does, over every
// DAG option an import takes and sizes around each chunk and level
// boundary: empty, one byte, one chunk, a full node of links, and past it
// into a second and third level.
func TestBuildFileMatchesBoxo(t *testing.T) {
	const chunkSize = 1024
	const maxLinks = 3
	sizes := []int{0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 2 * chunkSize,
		maxLinks * chunkSize, maxLinks*chunkSize + 1,
		maxLinks * maxLinks * chunkSize, maxLinks*maxLinks*chunkSize + 5,
		(maxLinks*maxLinks + 1) * chunkSize, (maxLinks*maxLinks + maxLinks + 1) * chunkSize,
		maxLinks * maxLinks * maxLinks * chunkSize,
		maxLinks*maxLinks*maxLinks*chunkSize + chunkSize/2}
	v1 := func(code uint64) cid.Builder {
		return cid.V1Builder{Codec: cid.DagProtobuf, MhType: code, MhLength: -1}
	}
	builders := []struct {
		name string
		b    cid.Builder
		raw  []bool
	}{
		{"v0", cid.V0Builder{}, []bool{false}},
		{"v1-sha2-256", v1(mh.SHA2_256), []bool{false, true}},
		{"v1-blake2b-256", v1(mh.BLAKE2B_MIN + 31), []bool{false, true}},
	}
	for _, bld := range builders {
		for _, raw := range bld.raw {
			for _, ahead := range []int{1, 4} {
				for _, size := range sizes {
					t.Run(fmt.Sprintf("%s/raw=%v/ahead=%d/%d", bld.name, raw, ahead, size), func(t *testing.T) {
						params := helpers.DagBuilderParams{Maxlinks: maxLinks, RawLeaves: raw, CidBuilder: bld.b}
						newSpl := func(r io.Reader) chunk.Splitter { return chunk.NewSizeSplitter(r, chunkSize) }
						want, got, wantRoot, gotRoot, wantErr, gotErr := layoutBoth(t, randomBytes(size, uint64(size)), newSpl, params, ahead)
						if wantErr != nil || gotErr != nil {
							t.Fatalf("boxo: %v, buildFile: %v", wantErr, gotErr)
						}
						assertSameBlocks(t, want, got, wantRoot, gotRoot)
					})
				}
			}
		}
	}
}

// TestBuildFileMatchesBoxoChunkers covers splitters whose chunks vary in
// size or end unusually: rabin, a chunk that comes with io.EOF, and an
// empty chunk before the end.
func TestBuildFileMatchesBoxoChunkers(t *testing.T) {
	data := randomBytes(200<<10, 7)
	params := helpers.DagBuilderParams{Maxlinks: 4, RawLeaves: true, CidBuilder: cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256, MhLength: -1}}
	tests := []struct {
		name   string
		newSpl func(io.Reader) chunk.Splitter
	}{
		{"rabin", func(r io.Reader) chunk.Splitter { return chunk.NewRabinMinMax(r, 2<<10, 4<<10, 8<<10) }},
		{"data with EOF", func(r io.Reader) chunk.Splitter {
			return &scriptedSplitter{r: r, sizes: []int{5000, 3000}, eofWithLast: true}
		}},
		{"empty chunk", func(r io.Reader) chunk.Splitter { return &scriptedSplitter{r: r, sizes: []int{5000, 0, 3000}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, got, wantRoot, gotRoot, wantErr, gotErr := layoutBoth(t, data, tt.newSpl, params, 3)
			if wantErr != nil || gotErr != nil {
				t.Fatalf("boxo: %v, buildFile: %v", wantErr, gotErr)
			}
			assertSameBlocks(t, want, got, wantRoot, gotRoot)
		})
	}
}

// TestBuildFileReadError checks that a read error ends the layout at the
// same chunk as boxo's, with the same blocks stored before it.
func TestBuildFileReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	params := helpers.DagBuilderParams{Maxlinks: 3, RawLeaves: true, CidBuilder: cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256, MhLength: -1}}
	for _, failAt := range []int{0, 1, 5} {
		t.Run(fmt.Sprint(failAt), func(t *testing.T) {
			newSpl := func(r io.Reader) chunk.Splitter {
				return &scriptedSplitter{r: r, sizes: []int{1024, 1024, 1024, 1024, 1024, 1024, 1024}, failAt: failAt, err: boom}
			}
			want, got, _, _, wantErr, gotErr := layoutBoth(t, randomBytes(8<<10, 3), newSpl, params, 4)
			if !errors.Is(wantErr, boom) || !errors.Is(gotErr, boom) {
				t.Fatalf("boxo: %v, buildFile: %v; want both %v", wantErr, gotErr, boom)
			}
			if !slices.Equal(want.added, got.added) {
				t.Fatalf("blocks stored before the error differ: boxo %d, buildFile %d", len(want.added), len(got.added))
			}
		})
	}
}

// TestImportMatchesBoxoDefaults imports a file of three levels with the
// default configuration's leaves (1 MiB chunks) but few links, through
// Import and the store, and compares the root with boxo's.
func TestImportMatchesBoxoDefaults(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLinks = 2
	c := newOffline(t, cfg)
	data := randomBytes(5<<20+3, 9)
	for _, version := range []int{0, 1} {
		res := importBytes(t, c, data, ImportOptions{CIDVersion: version})
		params, chunkSize, err := c.importParams(ImportOptions{CIDVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		params.Dagserv = mdtest.Mock()
		db, err := params.New(chunk.NewSizeSplitter(bytes.NewReader(data), int64(chunkSize)))
		if err != nil {
			t.Fatal(err)
		}
		want, err := balanced.Layout(db)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Cid.Equals(want.Cid()) {
			t.Errorf("CIDv%d: Import = %s, boxo = %s", version, res.Cid, want.Cid())
		}
	}
}

func assertSameBlocks(t *testing.T, want, got *addLog, wantRoot, gotRoot ipld.Node) {
	t.Helper()
	if !wantRoot.Cid().Equals(gotRoot.Cid()) {
		t.Errorf("root = %s, boxo's = %s", gotRoot.Cid(), wantRoot.Cid())
	}
	if _, isProto := gotRoot.(*merkledag.ProtoNode); isProto != isProtoNode(wantRoot) {
		t.Errorf("root is %T, boxo's is %T", gotRoot, wantRoot)
	}
	if !slices.Equal(want.added, got.added) {
		t.Errorf("blocks added differ: boxo added %d, buildFile %d", len(want.added), len(got.added))
	}
}

func isProtoNode(nd ipld.Node) bool { _, ok := nd.(*merkledag.ProtoNode); return ok }

// scriptedSplitter cuts chunks of the given sizes, optionally returning
// the last one together with io.EOF, or err in place of chunk failAt.
type scriptedSplitter struct {
	r           io.Reader
	sizes       []int
	n           int
	eofWithLast bool
	failAt      int
	err         error
}

func (s *scriptedSplitter) Reader() io.Reader { return s.r }

func (s *scriptedSplitter) NextBytes() ([]byte, error) {
	if s.err != nil && s.n == s.failAt {
		return nil, s.err
	}
	if s.n >= len(s.sizes) {
		return nil, io.EOF
	}
	b := make([]byte, s.sizes[s.n])
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, err
	}
	s.n++
	if s.eofWithLast && s.n == len(s.sizes) {
		return b, io.EOF
	}
	return b, nil
}
