package shell

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/ipfs/go-cid"
	"github.com/ipld/go-ipld-prime/datamodel"
	cidlink "github.com/ipld/go-ipld-prime/linking/cid"
	"github.com/ipld/go-ipld-prime/multicodec"
	"github.com/ipld/go-ipld-prime/node/basicnode"
	"github.com/ipld/go-ipld-prime/traversal"
	mc "github.com/multiformats/go-multicodec"

	// The codecs dag get and dag stat decode and encode.
	_ "github.com/ipld/go-codec-dagpb"
	_ "github.com/ipld/go-ipld-prime/codec/cbor"
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor"
	_ "github.com/ipld/go-ipld-prime/codec/dagjson"
	_ "github.com/ipld/go-ipld-prime/codec/json"
	_ "github.com/ipld/go-ipld-prime/codec/raw"
)

// decodeBlock reads c's block through the backend (fetching it if need
// be) and decodes it with the codec its CID names.
func (s *shell) decodeBlock(ctx context.Context, c cid.Cid) (datamodel.Node, int, error) {
	b, err := s.backend.GetBlock(ctx, c)
	if err != nil {
		return nil, 0, fetchError(ctx, c, err)
	}
	dec, err := multicodec.LookupDecoder(c.Prefix().Codec)
	if err != nil {
		return nil, 0, errorf(kindBadRequest, "block %s: codec %s cannot be decoded: %w", c, mc.Code(c.Prefix().Codec), err)
	}
	nb := basicnode.Prototype.Any.NewBuilder()
	if err := dec(nb, bytes.NewReader(b.RawData())); err != nil {
		return nil, 0, fmt.Errorf("decoding block %s: %w", c, err)
	}
	return nb.Build(), len(b.RawData()), nil
}

// dagGet sends one node encoded with output-codec (dag-json by default),
// as Kubo's dag/get.
func (s *shell) dagGet(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c, err := oneCIDArg(q)
	if err != nil {
		return err
	}
	name := q.Get("output-codec")
	if name == "" {
		name = "dag-json"
	}
	var code mc.Code
	if err := code.Set(name); err != nil {
		return errorf(kindBadRequest, "unknown output-codec %q", name)
	}
	enc, err := multicodec.LookupEncoder(uint64(code))
	if err != nil {
		return errorf(kindBadRequest, "output-codec %s cannot encode: %w", name, err)
	}
	nd, _, err := s.decodeBlock(r.Context(), c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := enc(nd, &buf); err != nil {
		return errorf(kindBadRequest, "encoding %s as %s: %w", c, name, err)
	}
	startStream(w, int64(buf.Len()))
	_, err = w.Write(buf.Bytes())
	return err
}

// dagStatEntry is one root's line of Kubo's dag stat: its blocks and
// bytes, each block counted once.
type dagStatEntry struct {
	Cid       string
	Size      uint64 `json:",omitempty"`
	NumBlocks int64  `json:",omitempty"`
}

// dagStatSummary is Kubo's dag stat output: the roots, then over all of
// them the unique blocks, total size, shared size and ratio.
type dagStatSummary struct {
	UniqueBlocks int            `json:",omitempty"`
	TotalSize    uint64         `json:",omitempty"`
	SharedSize   uint64         `json:",omitempty"`
	Ratio        float32        `json:",omitempty"`
	DagStats     []dagStatEntry `json:"DagStats,omitempty"`
}

// dagStatWalk walks the DAGs and fills the summary. seen spans every root,
// so a block shared between them counts once in TotalSize; redundant sums
// every visit across roots (each block once per root), as Kubo's does.
type dagStatWalk struct {
	s         *shell
	sum       dagStatSummary
	seen      map[string]struct{}
	redundant uint64
}

// dagStat walks each DAG depth-first, one block at a time, fetching
// what is missing; with progress=true it streams the summary after every
// block, as Kubo does, and always ends with the final one.
func (s *shell) dagStat(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	roots, err := cidArgs(q)
	if err != nil {
		return err
	}
	progress, err := boolParam(q, "progress", false)
	if err != nil {
		return err
	}
	out := &jsonStream{w: w}
	walk := &dagStatWalk{s: s, seen: map[string]struct{}{}}
	for _, root := range roots {
		if err := walk.root(r.Context(), root, out, progress); err != nil {
			return err
		}
	}
	walk.sum.UniqueBlocks = len(walk.seen)
	if walk.sum.TotalSize > 0 {
		walk.sum.Ratio = float32(walk.redundant) / float32(walk.sum.TotalSize)
		walk.sum.SharedSize = walk.redundant - walk.sum.TotalSize
	}
	return out.emit(walk.sum)
}

func (d *dagStatWalk) root(ctx context.Context, root cid.Cid, out *jsonStream, progress bool) error {
	d.sum.DagStats = append(d.sum.DagStats, dagStatEntry{Cid: root.String()})
	st := &d.sum.DagStats[len(d.sum.DagStats)-1]
	mine := map[string]struct{}{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		h := string(c.Hash())
		if _, ok := mine[h]; ok {
			continue
		}
		mine[h] = struct{}{}
		nd, size, err := d.s.decodeBlock(ctx, c)
		if err != nil {
			return err
		}
		st.Size += uint64(size)
		st.NumBlocks++
		d.redundant += uint64(size)
		if _, ok := d.seen[h]; !ok {
			d.seen[h] = struct{}{}
			d.sum.TotalSize += uint64(size)
		}
		links, err := traversal.SelectLinks(nd)
		if err != nil {
			return fmt.Errorf("links of %s: %w", c, err)
		}
		for _, l := range links {
			if cl, ok := l.(cidlink.Link); ok {
				stack = append(stack, cl.Cid)
			}
		}
		if progress {
			if err := out.emit(d.sum); err != nil {
				return err
			}
		}
	}
	return nil
}
