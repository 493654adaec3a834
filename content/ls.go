package content

import (
	"context"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// EntryType is what a directory entry holds.
type EntryType int

// Entry types, as UnixFS distinguishes them. A HAMT-sharded directory is
// a TypeDirectory, as it is to anyone listing it.
const (
	TypeUnknown EntryType = iota
	TypeFile
	TypeDirectory
	TypeSymlink
)

// Entry is one named link of a directory.
type Entry struct {
	Name string
	Cid  cid.Cid
	// Size is a file's size in bytes; 0 for directories and symlinks.
	Size uint64
	Type EntryType
	// Target is a symlink's target.
	Target string
}

// List returns the entries of the UnixFS directory root, in the order it
// stores them (sorted by name for a basic directory, by hash for a HAMT),
// with the type and size of each, which takes reading each entry's root
// block. isDir is false, and entries nil, when root is not a directory.
func (c *Content) List(ctx context.Context, root cid.Cid) (entries []Entry, isDir bool, err error) {
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer done()
	nd, err := c.dag.Get(ctx, root)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", root, err)
	}
	if !isDirectoryNode(nd) {
		return nil, false, nil
	}
	dir, err := uio.NewDirectoryFromNode(&shardsOnce{DAGService: c.dag, seen: cid.NewSet()}, nd)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", root, err)
	}
	var links []*ipld.Link
	err = dir.ForEachLink(ctx, func(l *ipld.Link) error {
		links = append(links, l)
		return nil
	})
	if err != nil {
		return nil, true, fmt.Errorf("list %s: %w", root, err)
	}
	entries = make([]Entry, 0, len(links))
	for start := 0; start < len(links); start += listWindow {
		window := links[start:min(start+listWindow, len(links))]
		if entries, err = c.describeAll(ctx, window, entries); err != nil {
			return nil, true, fmt.Errorf("list %s: %w", root, err)
		}
	}
	return entries, true, nil
}

// shardsOnce is the DAG a listing reads a HAMT's shards through: a shard
// met a second time fails the listing. A HAMT an importer made never holds
// the same shard twice (its entries' name hashes could not lead to two
// places), and boxo's walk for ls loads a shard once per place it is
// linked from: a hostile directory whose shards each link twice to the
// one below would list 2^depth entries, holding each in memory.
type shardsOnce struct {
	ipld.DAGService
	mu   sync.Mutex
	seen *cid.Set
}

// Get reads the shard k, unless the listing has read it already.
func (d *shardsOnce) Get(ctx context.Context, k cid.Cid) (ipld.Node, error) {
	d.mu.Lock()
	first := d.seen.Visit(k)
	d.mu.Unlock()
	if !first {
		return nil, fmt.Errorf("not a valid HAMT directory: shard %s appears twice", k)
	}
	return d.DAGService.Get(ctx, k)
}

// listWindow is how many entries List fetches at once: enough to keep
// Bitswap busy on a remote directory, few enough to bound the memory.
const listWindow = 256

// describeAll fetches the root blocks of links together and appends their
// entries to out, in links' order.
func (c *Content) describeAll(ctx context.Context, links []*ipld.Link, out []Entry) ([]Entry, error) {
	keys := make([]cid.Cid, len(links))
	for i, l := range links {
		keys[i] = l.Cid
	}
	nodes := make(map[cid.Cid]ipld.Node, len(links))
	for res := range c.dag.GetMany(ctx, keys) {
		if res.Err != nil {
			return nil, res.Err
		}
		nodes[res.Node.Cid()] = res.Node
	}
	for _, l := range links {
		nd, ok := nodes[l.Cid]
		if !ok {
			return nil, fmt.Errorf("entry %q: %s not fetched", l.Name, l.Cid)
		}
		out = append(out, describe(l, nd))
	}
	return out, nil
}

// describe tells an entry's type and size from its root block nd.
func describe(l *ipld.Link, nd ipld.Node) Entry {
	e := Entry{Name: l.Name, Cid: l.Cid}
	switch nd := nd.(type) {
	case *merkledag.RawNode:
		e.Type, e.Size = TypeFile, uint64(len(nd.RawData()))
	case *merkledag.ProtoNode:
		fsn, err := unixfs.FSNodeFromBytes(nd.Data())
		if err != nil {
			return e // not UnixFS: listed, of unknown type
		}
		switch fsn.Type() {
		case unixfs.TFile, unixfs.TRaw:
			e.Type, e.Size = TypeFile, fsn.FileSize()
		case unixfs.TDirectory, unixfs.THAMTShard:
			e.Type = TypeDirectory
		case unixfs.TSymlink:
			e.Type, e.Target = TypeSymlink, string(fsn.Data())
		}
	}
	return e
}
