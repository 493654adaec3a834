package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Directory settings of IPIP-499's profiles. They are set per directory
// rather than through boxo's package globals, which the whole process would
// share.
const (
	// hamtShardingSize: a directory whose block would exceed 256 KiB is
	// stored as a HAMT instead (both profiles).
	hamtShardingSize = 256 << 10
	// hamtFanout is the number of buckets per HAMT node (both profiles).
	hamtFanout = 256
	// progressStep is how many bytes pass between two progress reports,
	// as in Kubo's adder.
	progressStep = 256 << 10
)

// treeBuilder imports one files.Node tree into dag with one import's
// settings.
type treeBuilder struct {
	dag     ipld.DAGService
	params  helpers.DagBuilderParams
	chunker func(io.Reader) (chunk.Splitter, error)
	// estimation is how a directory's size is measured against
	// hamtShardingSize: the whole block under unixfs-v1-2025, names and
	// CIDs only under the legacy CIDv0 profile (unixfs-v0-2015).
	estimation uio.SizeEstimationMode
	opts       ImportOptions
}

// newTreeBuilder resolves opts; the caller sets dag.
func (c *Content) newTreeBuilder(opts ImportOptions) (*treeBuilder, error) {
	params, chunkSize, err := c.importParams(opts)
	if err != nil {
		return nil, err
	}
	b := &treeBuilder{params: params, opts: opts, estimation: uio.SizeEstimationBlock}
	if _, v0 := params.CidBuilder.(cid.V0Builder); v0 {
		b.estimation = uio.SizeEstimationLinks
	}
	b.chunker = func(r io.Reader) (chunk.Splitter, error) { return chunk.NewSizeSplitter(r, int64(chunkSize)), nil }
	if spec := opts.Chunker; spec != "" {
		if _, err := chunk.FromString(strings.NewReader(""), spec); err != nil {
			return nil, fmt.Errorf("chunker %q: %w", spec, err)
		}
		b.chunker = func(r io.Reader) (chunk.Splitter, error) { return chunk.FromString(r, spec) }
	}
	return b, nil
}

// add imports nd, found at path, and every entry under it.
func (b *treeBuilder) add(ctx context.Context, p string, nd files.Node) (ipld.Node, error) {
	var (
		out ipld.Node
		err error
	)
	switch nd := nd.(type) {
	case *files.Symlink:
		out, err = b.addSymlink(ctx, nd)
	case files.File:
		out, err = b.addFile(ctx, p, nd)
	case files.Directory:
		return b.addDir(ctx, p, nd)
	default:
		err = fmt.Errorf("unsupported node type %T", nd)
	}
	if err != nil {
		return nil, pathError(p, err)
	}
	return out, b.report(p, out, false)
}

// addFile chunks f into a balanced DAG.
func (b *treeBuilder) addFile(ctx context.Context, p string, f files.File) (ipld.Node, error) {
	var r io.Reader = f
	if b.opts.Progress != nil {
		r = &progressReader{r: f, path: p, report: b.opts.Progress}
	}
	spl, err := b.chunker(r)
	if err != nil {
		return nil, err
	}
	params := b.params
	params.Dagserv = b.dag
	return buildFile(&importSplitter{ctx: ctx, Splitter: spl}, params)
}

// addSymlink stores a UnixFS symlink node holding the link's target, as
// Kubo does (IPIP-499: symlinks are preserved, not followed).
func (b *treeBuilder) addSymlink(ctx context.Context, l *files.Symlink) (ipld.Node, error) {
	data, err := unixfs.SymlinkData(l.Target)
	if err != nil {
		return nil, err
	}
	nd := merkledag.NodeWithData(data)
	if err := nd.SetCidBuilder(b.params.CidBuilder); err != nil {
		return nil, err
	}
	return nd, b.dag.Add(ctx, nd)
}

// addDir imports every entry of d in the order it yields them (for a
// multipart upload, the order the parts arrive), closing each when done.
func (b *treeBuilder) addDir(ctx context.Context, p string, d files.Directory) (ipld.Node, error) {
	dir, err := b.newDirectory()
	if err != nil {
		return nil, pathError(p, err)
	}
	it := d.Entries()
	for it.Next() {
		name := it.Name()
		if err := checkEntryName(name); err != nil {
			return nil, pathError(p, err)
		}
		child := it.Node()
		nd, err := b.add(ctx, path.Join(p, name), child)
		child.Close()
		if err != nil {
			return nil, err
		}
		if err := dir.AddChild(ctx, name, nd); err != nil {
			return nil, pathError(path.Join(p, name), fmt.Errorf("add to directory: %w", err))
		}
	}
	if err := it.Err(); err != nil {
		return nil, pathError(p, fmt.Errorf("list directory: %w", err))
	}
	// A HAMT writes its shards to dag here; a basic directory is one node,
	// added just after.
	out, err := dir.GetNode()
	if err != nil {
		return nil, pathError(p, err)
	}
	if err := b.dag.Add(ctx, out); err != nil {
		return nil, pathError(p, err)
	}
	return out, b.report(p, out, true)
}

// newDirectory returns an empty directory that becomes a HAMT when its
// block would pass hamtShardingSize, with the import's CID settings.
func (b *treeBuilder) newDirectory() (uio.Directory, error) {
	return uio.NewDirectory(b.dag,
		uio.WithCidBuilder(b.params.CidBuilder),
		uio.WithMaxHAMTFanout(hamtFanout),
		uio.WithSizeEstimationMode(b.estimation),
		func(d uio.Directory) { d.SetHAMTShardingSize(hamtShardingSize) },
	)
}

// checkEntryName refuses names that cannot be one path element: an upload
// could otherwise store a tree that get would write outside its target.
func checkEntryName(name string) error {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return fmt.Errorf("invalid entry name %q", name)
	}
	return nil
}

// report hands a built entry to opts.Added; the root is reported by
// finish, once stored.
func (b *treeBuilder) report(p string, nd ipld.Node, dir bool) error {
	if p == "" || b.opts.Added == nil {
		return nil
	}
	size, err := nd.Size()
	if err != nil {
		return pathError(p, err)
	}
	return b.opts.Added(Added{Path: p, Cid: nd.Cid(), Size: size, Dir: dir})
}

// finish reports the root and returns the import's result.
func (b *treeBuilder) finish(root ipld.Node) (ImportResult, error) {
	res, err := result(root)
	if err != nil {
		return ImportResult{}, err
	}
	if b.opts.Added != nil {
		if err := b.opts.Added(Added{Cid: res.Cid, Size: res.Size, Dir: isDirectoryNode(root)}); err != nil {
			return ImportResult{}, err
		}
	}
	return res, nil
}

// isDirectoryNode reports whether nd is a UnixFS directory or HAMT shard.
func isDirectoryNode(nd ipld.Node) bool {
	pn, ok := nd.(*merkledag.ProtoNode)
	if !ok {
		return false
	}
	fsn, err := unixfs.FSNodeFromBytes(pn.Data())
	if err != nil {
		return false
	}
	return fsn.Type() == unixfs.TDirectory || fsn.Type() == unixfs.THAMTShard
}

func pathError(p string, err error) error {
	var pe *entryError
	if p == "" || errors.As(err, &pe) {
		return err
	}
	return &entryError{path: p, err: err}
}

// entryError names the entry of a tree an import failed on, once.
type entryError struct {
	path string
	err  error
}

func (e *entryError) Error() string { return e.path + ": " + e.err.Error() }
func (e *entryError) Unwrap() error { return e.err }

// progressReader reports the bytes read from a file every progressStep
// bytes and once at its end, so that even an empty file shows up.
type progressReader struct {
	r      io.Reader
	path   string
	report func(string, int64)
	n      int64
	last   int64
	ended  bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	end := errors.Is(err, io.EOF) && !p.ended && (p.n != p.last || p.n == 0)
	if end || p.n-p.last >= progressStep {
		p.ended = p.ended || errors.Is(err, io.EOF)
		p.last = p.n
		p.report(p.path, p.n)
	}
	return n, err
}
