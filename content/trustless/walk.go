// Package trustless is the order in which a trustless-gateway CAR response
// (application/vnd.ipld.car, order=dfs) lists the blocks of a DAG, written
// once and used on both ends: WriteCAR streams a DAG in that order from a
// block source, and Verifier checks a received stream against it, block by
// block, each against the CID learned from its already-verified parent.
//
// The order is boxo's gateway's (and so Kubo's): depth-first, links in
// order; for dag-scope=entity on a UnixFS file, only the children whose
// bytes overlap entity-bytes; with dups=n, a block already listed is not
// listed again. Matching it exactly is what lets a Cairn peer fetch from a
// Kubo gateway and lets Cairn's CARs equal Kubo's byte for byte.
//
// Under dups=n a walk costs time linear in the distinct blocks it lists
// (and their links), however often the DAG links to the same subtree: a
// lattice whose nodes each link twice to the one below has 2^depth paths
// but depth+1 blocks. dag-scope=all skips a block met again with all its
// subtree, as boxo's traversal does (LinkVisitOnlyOnce); dag-scope=entity
// walks a subtree met again only while it straddles an end of the range,
// which a chain of at most depth nested nodes per end can. Under dups=y
// the response itself lists every path, so its cost is its length.
package trustless

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/multicodec"
	basicnode "github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/ipld/go-ipld-prime/traversal"
	mh "github.com/multiformats/go-multihash"

	// dag-cbor and dag-json links are followed in dag-scope=all, as the
	// gateway does.
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor"
	_ "github.com/ipld/go-ipld-prime/codec/dagjson"
)

// ErrUnsupported is returned for a request this package does not walk
// itself (a path inside the DAG, a HAMT directory under dag-scope=entity, an
// order other than dfs); callers hand those to boxo's gateway.
var ErrUnsupported = errors.New("trustless: request not supported by the fast walk")

// Params are the parts of a CAR request that decide which blocks are sent.
type Params struct {
	// Scope is all (the whole DAG), entity (a file's bytes, a directory's
	// own block) or block (the root block alone); empty means all.
	Scope gateway.DagScope
	// From and To are entity-bytes, inclusive, with the gateway's
	// meaning: negative counts from the end of the file; HasTo false
	// means to the end.
	From  int64
	To    int64
	HasTo bool
	// Dups sends a block again each time the walk meets it (dups=y).
	Dups bool
}

// ParamsFromGateway converts boxo's parsed request parameters, refusing
// orders other than dfs (unk is served as dfs, as boxo does).
func ParamsFromGateway(p gateway.CarParams) (Params, error) {
	switch p.Order {
	case gateway.DagOrderDFS, gateway.DagOrderUnknown, gateway.DagOrderUnspecified:
	default:
		return Params{}, fmt.Errorf("%w: order=%s", ErrUnsupported, p.Order)
	}
	out := Params{Scope: p.Scope, Dups: p.Duplicates.Bool()}
	if p.Range != nil {
		out.From = p.Range.From
		if p.Range.To != nil {
			out.To, out.HasTo = *p.Range.To, true
		}
	}
	return out, nil
}

// item is one block the walk will list: its CID and, inside a file, the
// offset of its first byte and the bytes its parent says it holds (-1 for
// the root and outside entity walks).
type item struct {
	c    cid.Cid
	off  int64
	size int64
}

// node is what the walk keeps of a dag-pb block it listed, so that meeting
// it again under dups=n still expands its children without the block.
type node struct {
	links   []cid.Cid
	sizes   []int64 // bytes under each link, inside a file
	dataLen int64   // inline file bytes before the first child
	size    int64   // dataLen and sizes together: the file bytes under it
	file    bool
	// whole is set once the node was expanded wholly inside the range of
	// an entity walk: every block under it has been listed since.
	whole bool
}

// walk yields the blocks of one response in order. It is driven by its
// user: next says which block comes next, visit takes that block's bytes
// and learns its children.
type walk struct {
	p        Params
	from, to int64 // the byte range, inclusive, once the root is known
	stack    []item
	seen     map[cid.Cid]*node
	started  bool
	// steps counts the items taken off the stack, listed or not: the
	// walk's work, which tests hold to the DAG's distinct blocks.
	steps int
}

func newWalk(root cid.Cid, p Params) *walk {
	if p.Scope == "" {
		p.Scope = gateway.DagScopeAll
	}
	return &walk{p: p, stack: []item{{c: root, size: -1}}, seen: make(map[cid.Cid]*node)}
}

// next returns the next block to list, false when the walk is over. Under
// dups=n, blocks already listed are skipped, and their subtrees with them
// unless revisit says an entity walk may still find blocks there.
// Identity CIDs carry their block in the CID and are never listed (boxo's
// CAR writer drops them), but the walk goes on through their links.
func (w *walk) next() (item, bool, error) {
	for len(w.stack) > 0 {
		w.steps++
		it := w.stack[len(w.stack)-1]
		if it.c.Prefix().MhType == mh.IDENTITY {
			dm, err := mh.Decode(it.c.Hash())
			if err != nil {
				return item{}, false, fmt.Errorf("block %s: %w", it.c, err)
			}
			if err := w.visit(it, dm.Digest); err != nil {
				return item{}, false, err
			}
			continue
		}
		nd, seen := w.seen[it.c]
		if w.p.Dups || !seen {
			return it, true, nil
		}
		w.stack = w.stack[:len(w.stack)-1]
		if nd == nil {
			continue
		}
		again, err := w.revisit(it, nd)
		if err != nil {
			return item{}, false, err
		}
		if again {
			w.push(it, nd)
		}
	}
	return item{}, false, nil
}

// revisit reports whether a dag-pb node met again under dups=n must be
// expanded again from memory. Under dag-scope=all never: depth-first, the
// first visit listed its whole subtree before the walk came back. Under
// dag-scope=entity only while the node may hold blocks not yet listed:
// not once it was expanded wholly inside the range, since then (each
// node's size being checked against its parent's word) so was everything
// under it.
func (w *walk) revisit(it item, nd *node) (bool, error) {
	if w.p.Scope != gateway.DagScopeEntity || nd.whole {
		return false, nil
	}
	return true, checkSize(it, nd)
}

// checkSize refuses a file node whose own sizes disagree with what its
// parent says it holds: the offsets of everything under it would be wrong,
// and an entity walk could no longer tell which subtrees it has listed.
func checkSize(it item, nd *node) error {
	if it.size >= 0 && nd.file && nd.size != it.size {
		return fmt.Errorf("block %s: UnixFS file node holds %d bytes, its parent says %d", it.c, nd.size, it.size)
	}
	return nil
}

// visit consumes the block next returned, with its bytes, and queues its
// children.
func (w *walk) visit(it item, data []byte) error {
	w.stack = w.stack[:len(w.stack)-1]
	root := !w.started
	w.started = true
	if w.p.Scope == gateway.DagScopeBlock {
		w.seen[it.c] = nil
		return nil
	}
	switch it.c.Type() {
	case cid.Raw:
		w.seen[it.c] = nil
		return nil
	case cid.DagProtobuf:
		nd, err := decodePB(data, w.p.Scope == gateway.DagScopeEntity)
		if err != nil {
			return fmt.Errorf("block %s: %w", it.c, err)
		}
		w.seen[it.c] = nd
		if w.p.Scope == gateway.DagScopeEntity {
			if root {
				if !nd.file {
					// A directory or symlink is its own block; a HAMT
					// was refused by decodePB.
					return nil
				}
				w.setRange(nd)
			} else if !nd.file && len(nd.links) > 0 {
				return fmt.Errorf("block %s: not a UnixFS file node inside a file", it.c)
			} else if err := checkSize(it, nd); err != nil {
				return err
			}
		}
		w.push(it, nd)
		return nil
	default:
		w.seen[it.c] = nil
		if w.p.Scope != gateway.DagScopeAll {
			// The gateway lists only the root of a non-UnixFS entity.
			if root {
				return nil
			}
			return fmt.Errorf("block %s: codec %#x inside a UnixFS file", it.c, it.c.Type())
		}
		links, err := otherLinks(it.c, data)
		if err != nil {
			return fmt.Errorf("block %s: %w", it.c, err)
		}
		// Not kept for dups=n: such blocks are rare and small, and without
		// a node they are skipped with their subtree, as boxo does.
		for i := len(links) - 1; i >= 0; i-- {
			w.stack = append(w.stack, item{c: links[i]})
		}
		return nil
	}
}

// setRange resolves entity-bytes against the file's size.
func (w *walk) setRange(nd *node) {
	size := nd.size
	w.from, w.to = w.p.From, math.MaxInt64
	if w.from < 0 {
		w.from = max(size+w.from, 0)
	}
	if w.p.HasTo {
		w.to = w.p.To
		if w.to < 0 {
			w.to = size + w.to
		}
	}
}

// push queues nd's children, last first so the first pops first. Under
// dag-scope=entity only children overlapping [from, to] are queued, as the
// gateway's file reader loads only those.
func (w *walk) push(it item, nd *node) {
	entity := w.p.Scope == gateway.DagScopeEntity
	if entity && it.off > w.from && it.off+nd.size <= w.to {
		// Every child is pushed, wholly inside the range too.
		nd.whole = true
	}
	end := len(w.stack)
	off := it.off + nd.dataLen
	for i, l := range nd.links {
		start, size := off, int64(-1)
		if entity {
			size = nd.sizes[i]
			off += size
			if start > w.to || off <= w.from {
				continue
			}
		}
		w.stack = append(w.stack, item{c: l, off: start, size: size})
	}
	// Reverse what was appended.
	for i, j := end, len(w.stack)-1; i < j; i, j = i+1, j-1 {
		w.stack[i], w.stack[j] = w.stack[j], w.stack[i]
	}
}

// decodePB reads a dag-pb block's links and, when it is a UnixFS file
// node, the bytes under each. withSizes demands the sizes of a file node
// (entity walks); a HAMT is refused there, as ErrUnsupported.
func decodePB(data []byte, withSizes bool) (*node, error) {
	pn, err := merkledag.DecodeProtobuf(data)
	if err != nil {
		return nil, err
	}
	nd := &node{links: make([]cid.Cid, len(pn.Links()))}
	for i, l := range pn.Links() {
		nd.links[i] = l.Cid
	}
	if !withSizes {
		return nd, nil
	}
	fs, err := unixfs.FSNodeFromBytes(pn.Data())
	if err != nil {
		// Not UnixFS: the entity is the block itself.
		return nd, nil
	}
	switch fs.Type() {
	case unixfs.TFile:
	case unixfs.THAMTShard:
		return nil, ErrUnsupported
	default:
		// Directories, symlinks, and raw or metadata nodes, which the
		// gateway also lists alone.
		return nd, nil
	}
	if fs.NumChildren() != len(nd.links) {
		return nil, fmt.Errorf("UnixFS file node lists %d block sizes for %d links", fs.NumChildren(), len(nd.links))
	}
	nd.file = true
	nd.dataLen = int64(len(fs.Data()))
	nd.size = nd.dataLen
	nd.sizes = make([]int64, len(nd.links))
	for i, l := range pn.Links() {
		// Raw leaves are sized by their link, as the gateway's reader
		// does; other children by the node's blocksizes.
		s := fs.BlockSize(i)
		if l.Cid.Type() == cid.Raw {
			s = l.Size
		}
		if s > maxFileSize-uint64(nd.size) {
			return nil, fmt.Errorf("UnixFS file node claims more than %d bytes", uint64(maxFileSize))
		}
		nd.sizes[i] = int64(s)
		nd.size += int64(s)
	}
	return nd, nil
}

// maxFileSize bounds the bytes a UnixFS file may claim (4 EiB), so that
// offsets within it never overflow.
const maxFileSize = 1 << 62

// otherLinks lists the links of a block in another codec (dag-cbor,
// dag-json) in the order an IPLD traversal meets them.
func otherLinks(c cid.Cid, data []byte) ([]cid.Cid, error) {
	dec, err := multicodec.LookupDecoder(c.Type())
	if err != nil {
		return nil, err
	}
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dec(nb, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	links, err := traversal.SelectLinks(nb.Build())
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, 0, len(links))
	for _, l := range links {
		cl, ok := l.(cidlink.Link)
		if !ok {
			return nil, fmt.Errorf("link %v is not a CID", l)
		}
		out = append(out, cl.Cid)
	}
	return out, nil
}

// FileSize reads a root block: the size of the UnixFS file it is the root
// of, and whether the file's bytes live in other blocks (so an entity
// walk has more to list than the root). A raw block is a file of its own
// bytes; anything else has size 0.
func FileSize(root cid.Cid, data []byte) (size int64, children bool, err error) {
	switch root.Type() {
	case cid.Raw:
		return int64(len(data)), false, nil
	case cid.DagProtobuf:
	default:
		return 0, false, nil
	}
	nd, err := decodePB(data, true)
	if errors.Is(err, ErrUnsupported) {
		return 0, false, nil // a HAMT directory
	}
	if err != nil {
		return 0, false, fmt.Errorf("block %s: %w", root, err)
	}
	if !nd.file {
		return 0, false, nil
	}
	return nd.size, len(nd.links) > 0, nil
}

// HasLinks reports whether a block links to others: a DAG a dag-scope=all
// walk has more of than the block itself.
func HasLinks(c cid.Cid, data []byte) bool {
	switch c.Type() {
	case cid.Raw:
		return false
	case cid.DagProtobuf:
		nd, err := decodePB(data, false)
		return err == nil && len(nd.links) > 0
	default:
		links, err := otherLinks(c, data)
		return err == nil && len(links) > 0
	}
}
