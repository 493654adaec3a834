package trustless

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// maxSection bounds one CAR section read from a peer: a block at the 2 MiB
// limit peers accept, its CID and length prefix, with room to spare. A
// larger section is refused before it is read into memory.
const maxSection = 2<<20 + 1024

// BlockSource returns the bytes of the block c. WriteCAR asks for blocks
// in the order it writes them, one at a time.
type BlockSource func(ctx context.Context, c cid.Cid) ([]byte, error)

// Check reports whether the walk for root and p can be served from the
// root block alone: ErrUnsupported for a HAMT directory under
// dag-scope=entity, a decoding error for a root that is not what its CID
// says. Callers check before answering, so that a refused request can still
// go to another writer.
func Check(root cid.Cid, rootData []byte, p Params) error {
	w := newWalk(root, p)
	return w.visit(item{c: root}, rootData)
}

// WriteCAR writes the CARv1 response for root and p to w: a header naming
// root, then every block of the walk in order. It stops at the first error
// of get or w, leaving a truncated stream that a verifying reader refuses.
func WriteCAR(ctx context.Context, w io.Writer, get BlockSource, root cid.Cid, p Params) error {
	// Duplicates are the walk's decision; the writer's own index of
	// written CIDs would cost a map entry per block for nothing.
	cw, err := storage.NewWritable(w, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(true))
	if err != nil {
		return fmt.Errorf("car header: %w", err)
	}
	wk := newWalk(root, p)
	for {
		// A block source reading a local store need not look at ctx:
		// the walk does, so that a response whose client has gone
		// stops at its next block.
		if err := ctx.Err(); err != nil {
			return err
		}
		it, ok, err := wk.next()
		if err != nil || !ok {
			return err
		}
		data, err := get(ctx, it.c)
		if err != nil {
			return err
		}
		if err := cw.Put(ctx, it.c.KeyString(), data); err != nil {
			return fmt.Errorf("car: write %s: %w", it.c, err)
		}
		if err := wk.visit(it, data); err != nil {
			return err
		}
	}
}

// Block is one verified block of a CAR stream, with where its file bytes
// sit in the file under an entity walk: Len bytes at Off (Len is 0 for a
// block without file bytes, and outside entity walks).
type Block struct {
	CID  cid.Cid
	Data []byte
	Off  int64
	Len  int64
}

// Errors of ReadCAR, matched with errors.Is; each names the block.
var (
	// ErrUnexpectedBlock is a block other than the one the walk expects
	// next: a wrong block, one out of order, or one past the end.
	ErrUnexpectedBlock = errors.New("unexpected block")
	// ErrTruncated is a stream that ends while blocks are still expected.
	ErrTruncated = errors.New("stream ended early")
	// ErrBadBlock is a block whose bytes do not hash to its CID.
	ErrBadBlock = errors.New("block does not match its CID")
)

// ReadCAR reads a CAR response for root and p from r and hands each block
// to put once it is verified: its CID is the one the walk expects next,
// learned from its already-verified parent, and its bytes hash to it.
// Nothing unverified reaches put. The first wrong, extra or out-of-order
// block, a truncated stream or an error of put ends the read with an error;
// the blocks put before it are good.
func ReadCAR(r io.Reader, root cid.Cid, p Params, put func(Block) error) error {
	return ReadCARInto(r, root, p, nil, put)
}

// ReadCARInto is ReadCAR reading each block's bytes into alloc(n), a
// buffer of n bytes the caller may reuse once put returns or later (nil:
// a new one each time). A fetch reads at the speed of the network into
// buffers of a megabyte; on some machines fresh ones cost more in page
// faults than the hash of their bytes.
func ReadCARInto(r io.Reader, root cid.Cid, p Params, alloc func(n int) []byte, put func(Block) error) error {
	if alloc == nil {
		alloc = func(n int) []byte { return make([]byte, n) }
	}
	// The CIDs are checked here, against the walk, not by the reader.
	br, err := car.NewBlockReader(r, car.WithTrustedCAR(true), car.MaxAllowedSectionSize(maxSection))
	if err != nil {
		return fmt.Errorf("car header: %w", err)
	}
	if len(br.Roots) != 1 || !br.Roots[0].Equals(root) {
		return fmt.Errorf("car header: roots %v, want [%s]", br.Roots, root)
	}
	wk := newWalk(root, p)
	for {
		it, more, err := wk.next()
		if err != nil {
			return err
		}
		c, data, err := nextSection(br, alloc)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !more {
				return nil
			}
			return fmt.Errorf("%w: block %s missing", ErrTruncated, it.c)
		}
		if err != nil {
			return fmt.Errorf("car: %w", err)
		}
		if !more {
			return fmt.Errorf("%w: %s after the last block", ErrUnexpectedBlock, c)
		}
		if !c.Equals(it.c) {
			return fmt.Errorf("%w: got %s, want %s", ErrUnexpectedBlock, c, it.c)
		}
		if sum, err := it.c.Prefix().Sum(data); err != nil || !sum.Equals(it.c) {
			return fmt.Errorf("%w: %s", ErrBadBlock, it.c)
		}
		if err := wk.visit(it, data); err != nil {
			return err
		}
		b := Block{CID: it.c, Data: data, Off: it.off}
		if wk.p.Scope == "entity" {
			b.Len = fileBytes(it.c, data, wk.seen[it.c])
		}
		if err := put(b); err != nil {
			return err
		}
	}
}

// nextSection reads the next section of br: its CID, and its data into a
// buffer from alloc. A section longer than maxSection is refused before
// its data is read.
func nextSection(br *car.BlockReader, alloc func(int) []byte) (cid.Cid, []byte, error) {
	c, r, n, err := br.NextReader()
	if err != nil {
		return cid.Undef, nil, err
	}
	if n > maxSection {
		return cid.Undef, nil, fmt.Errorf("section of %d bytes over the %d-byte limit", n, maxSection)
	}
	data := alloc(int(n))
	if _, err := io.ReadFull(r, data); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return cid.Undef, nil, err
	}
	return c, data, nil
}

// fileBytes is the number of file bytes a block of a UnixFS file carries
// itself (not through children).
func fileBytes(c cid.Cid, data []byte, nd *node) int64 {
	if c.Type() == cid.Raw {
		return int64(len(data))
	}
	if nd != nil {
		return nd.dataLen
	}
	// A dag-pb leaf: its bytes are in its UnixFS data.
	if fs, err := unixfs.FSNodeFromBytes(data); err == nil {
		return int64(len(fs.Data()))
	}
	return 0
}
