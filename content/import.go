package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
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
	// Chunker is a boxo chunker spec ("size-N", "rabin-MIN-AVG-MAX",
	// "buzhash"), as Kubo's --chunker takes; "" uses ChunkSize.
	Chunker string
	// CIDVersion 0 or 1; -1 for Config.CIDVersion.
	CIDVersion int
	// RawLeaves; nil for Config.RawLeaves, or false under CIDv0 (as Kubo
	// does, since CIDv0 cannot name a raw block).
	RawLeaves *bool
	// Pin pins the root recursively.
	Pin bool
	// OnlyHash computes the CID and stores, pins and announces nothing.
	OnlyHash bool
	// Progress, if set, is called as a file's bytes are read, with the
	// file's path (as in Added) and the bytes read so far: every
	// progressStep bytes and at the file's end.
	Progress func(path string, bytes int64)
	// Added, if set, is called for every file, symlink and directory of the
	// tree once it is built, children before their directory and the root
	// last (after it is stored and pinned). An error from it stops the
	// import.
	Added func(Added) error
}

// Added describes one entry an import has built.
type Added struct {
	// Path is slash-separated and relative to the imported node: "" for
	// the node itself, "a/b.txt" for a file two levels down.
	Path string
	// Cid is the entry's root.
	Cid cid.Cid
	// Size is the cumulative size of the entry's DAG, as in ImportResult.
	Size uint64
	// Dir is set for directories.
	Dir bool
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
	// Hiding any Close keeps the file from closing the caller's reader.
	return c.ImportNode(ctx, files.NewReaderFile(struct{ io.Reader }{r}), opts)
}

// ImportNode imports a file, a symlink or a whole directory tree as UnixFS,
// as Import does for one file: every file streams through in constant
// memory, directories are built as their entries arrive (sharded as a HAMT
// past hamtShardingSize, see newDirectory), and the root is pinned and
// announced at the end. Until the root is pinned the garbage collector is
// held off, so no block of a tree being added can be collected. nd is not
// closed; the entries of a directory are, once imported.
func (c *Content) ImportNode(ctx context.Context, nd files.Node, opts ImportOptions) (ImportResult, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	defer done()
	b, err := c.newTreeBuilder(opts)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if opts.OnlyHash {
		b.dag = discardDAG()
		root, err := b.add(ctx, "", nd)
		if err != nil {
			return ImportResult{}, fmt.Errorf("import: %w", err)
		}
		return b.finish(root)
	}

	// Until the root is pinned, a garbage collector must not run.
	unlock := c.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	// Small batches, about one 1 MiB chunk per commit: pebble keeps a
	// batch over half its memtable as a batch of its own until flushed,
	// and with the 8 MiB default the daemon's peak RSS during a 1 GiB add
	// was 250 MiB; with this, 175 MiB. Many small files still go 128 to a
	// commit (the node bound is shared by the parallel commits too).
	batch := ipld.NewBufferedDAG(ctx, importedDAG{c.dag, c.bserv},
		ipld.MaxSizeBatchOption(importBatchBytes),
		ipld.MaxNodesBatchOption(128*runtime.NumCPU()))
	b.dag = batch
	var written *recordingDAG
	if opts.Pin && c.cfg.ProvideStrategy == StrategyPinned {
		// Remember the CIDs written, to announce them after the root.
		written = &recordingDAG{DAGService: batch}
		b.dag = written
	}
	root, err := b.add(ctx, "", nd)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import: %w", err)
	}
	if err := batch.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("import: write blocks: %w", err)
	}
	res, err := result(root)
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
	return b.finish(root)
}

// importBatchBytes bounds the blocks an import buffers before writing
// them, across all commits in flight: 1 MiB.
const importBatchBytes = 1 << 20

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

// importedDAG writes the blocks an import made. Their CIDs were computed
// from their bytes a moment before, so the verifying store does not hash
// them a second time (a full SHA-256 pass over every byte added).
type importedDAG struct {
	ipld.DAGService
	bserv blockservice.BlockService
}

func (d importedDAG) Add(ctx context.Context, nd ipld.Node) error {
	return d.bserv.AddBlock(ctx, verifiedBlock{nd})
}

func (d importedDAG) AddMany(ctx context.Context, nds []ipld.Node) error {
	bs := make([]blocks.Block, len(nds))
	for i, nd := range nds {
		bs[i] = verifiedBlock{nd}
	}
	return d.bserv.AddBlocks(ctx, bs)
}
