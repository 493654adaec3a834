package content

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
)

// ImportOptions adjusts one Import; the zero value of a field means the
// configured default, except CIDVersion, where 0 means CIDv0 and -1 the
// default.
type ImportOptions struct {
	// ChunkSize in bytes per leaf; 0 for Config.ChunkSize.
	ChunkSize int
	// CIDVersion 0 or 1; -1 for Config.CIDVersion.
	CIDVersion int
	// RawLeaves; nil for Config.RawLeaves, or false under CIDv0 (as Kubo
	// does, since CIDv0 cannot name a raw block).
	RawLeaves *bool
	// Pin pins the root recursively.
	Pin bool
	// OnlyHash computes the CID and stores, pins and announces nothing.
	OnlyHash bool
}

// ImportResult is the outcome of an Import.
type ImportResult struct {
	// Cid is the root of the file's DAG.
	Cid cid.Cid
	// Size is the cumulative size of the DAG (file bytes plus the dag-pb
	// nodes), the "Size" of Kubo's add.
	Size uint64
}

// Import reads r to its end as one UnixFS file: fixed-size chunks, a balanced
// DAG of at most MaxLinks links per node, written to the store in batches as
// it goes, so memory stays at a few chunks whatever the file's size. With
// opts.Pin the root is pinned recursively; the root is then announced (and,
// under the "pinned" strategy, every block of a pinned import after it).
func (c *Content) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	defer done()
	params, chunkSize, err := c.importParams(opts)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if opts.OnlyHash {
		params.Dagserv = discardDAG()
		nd, err := buildFile(ctx, r, chunkSize, params)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import: %w", err)
		}
		return result(nd)
	}

	// Until the root is pinned, a garbage collector must not run.
	unlock := c.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	batch := ipld.NewBufferedDAG(ctx, c.dag)
	params.Dagserv = batch
	var written *recordingDAG
	if opts.Pin && c.cfg.ProvideStrategy == StrategyPinned {
		// Remember the CIDs written, to announce them after the root.
		written = &recordingDAG{DAGService: batch}
		params.Dagserv = written
	}
	nd, err := buildFile(ctx, r, chunkSize, params)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if err := batch.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("import: write blocks: %w", err)
	}
	res, err := result(nd)
	if err != nil {
		return ImportResult{}, err
	}
	if opts.Pin {
		if err := c.pins.PinWithMode(ctx, res.Cid, pin.Recursive, ""); err != nil {
			return ImportResult{}, fmt.Errorf("import: pin %s: %w", res.Cid, err)
		}
	}
	c.announce(ctx, res.Cid)
	if written != nil {
		for _, k := range written.keys {
			if !k.Equals(res.Cid) {
				c.announce(ctx, k)
			}
		}
	}
	return res, nil
}

// importParams resolves opts against the configuration.
func (c *Content) importParams(opts ImportOptions) (helpers.DagBuilderParams, int, error) {
	chunkSize := c.cfg.ChunkSize
	if opts.ChunkSize != 0 {
		if err := validateChunkSize(opts.ChunkSize); err != nil {
			return helpers.DagBuilderParams{}, 0, fmt.Errorf("chunk size: %w", err)
		}
		chunkSize = opts.ChunkSize
	}
	version := c.cfg.CIDVersion
	switch opts.CIDVersion {
	case -1:
	case 0, 1:
		version = opts.CIDVersion
	default:
		return helpers.DagBuilderParams{}, 0, fmt.Errorf("cid version must be 0 or 1, got %d", opts.CIDVersion)
	}
	rawLeaves := c.cfg.RawLeaves && version == 1
	if opts.RawLeaves != nil {
		rawLeaves = *opts.RawLeaves
	}
	code, err := hashCode(c.cfg.HashFunction)
	if err != nil {
		return helpers.DagBuilderParams{}, 0, err
	}
	var builder cid.Builder = cid.V1Builder{Codec: cid.DagProtobuf, MhType: code, MhLength: -1}
	if version == 0 {
		if c.cfg.HashFunction != "sha2-256" {
			return helpers.DagBuilderParams{}, 0, fmt.Errorf("cid version 0 needs sha2-256, not %s", c.cfg.HashFunction)
		}
		builder = cid.V0Builder{}
	}
	return helpers.DagBuilderParams{
		Maxlinks:   c.cfg.MaxLinks,
		RawLeaves:  rawLeaves,
		CidBuilder: builder,
	}, chunkSize, nil
}

// buildFile chunks r and lays the chunks out as a balanced UnixFS DAG into
// params.Dagserv, returning the root.
func buildFile(ctx context.Context, r io.Reader, chunkSize int, params helpers.DagBuilderParams) (ipld.Node, error) {
	spl := &importSplitter{ctx: ctx, Splitter: chunk.NewSizeSplitter(r, int64(chunkSize))}
	db, err := params.New(spl)
	if err != nil {
		return nil, err
	}
	return balanced.Layout(db)
}

func result(nd ipld.Node) (ImportResult, error) {
	size, err := nd.Size()
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: size of %s: %w", nd.Cid(), err)
	}
	return ImportResult{Cid: nd.Cid(), Size: size}, nil
}

// importSplitter numbers the chunks, so that a read error says where it
// happened, and stops at ctx's end, since the reader may not watch ctx.
type importSplitter struct {
	chunk.Splitter
	ctx    context.Context
	n      int
	offset int64
}

// NextBytes returns the next chunk; io.EOF stays unwrapped, as the DAG
// builder compares it with ==.
func (s *importSplitter) NextBytes() ([]byte, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, fmt.Errorf("chunk %d (offset %d): %w", s.n, s.offset, err)
	}
	b, err := s.Splitter.NextBytes()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("chunk %d (offset %d): %w", s.n, s.offset, err)
	}
	s.n++
	s.offset += int64(len(b))
	return b, err
}

// discardDAG hashes what it is given and keeps nothing, for OnlyHash.
func discardDAG() ipld.DAGService {
	return merkledag.NewDAGService(blockservice.New(blockstore.NewBlockstore(datastore.NewNullDatastore()), nil))
}

// recordingDAG notes the CIDs added through it, in order.
type recordingDAG struct {
	ipld.DAGService
	keys []cid.Cid
}

// Add records nd's CID and adds it.
func (d *recordingDAG) Add(ctx context.Context, nd ipld.Node) error {
	d.keys = append(d.keys, nd.Cid())
	return d.DAGService.Add(ctx, nd)
}

// AddMany records the nodes' CIDs and adds them.
func (d *recordingDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	for _, nd := range nds {
		d.keys = append(d.keys, nd.Cid())
	}
	return d.DAGService.AddMany(ctx, nds)
}
