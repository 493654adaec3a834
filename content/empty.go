package content

import (
	"bytes"
	"context"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// emptySHA256 is the sha2-256 multihash of no bytes: the hash of the block
// an empty file becomes under raw leaves (bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku).
var emptySHA256 = func() mh.Multihash {
	h, err := mh.Sum(nil, mh.SHA2_256, -1)
	if err != nil {
		panic(err) // sha2-256 is always registered
	}
	return h
}()

// isEmptyBlock reports whether k names a block of zero bytes.
func isEmptyBlock(k cid.Cid) bool { return bytes.Equal(k.Hash(), emptySHA256) }

// emptyBlocks answers for the zero-byte block as boxo's identity store
// answers for identity CIDs: the CID alone proves the bytes, so the block
// is neither stored nor fetched. Without it an empty file added with raw
// leaves (the unixfs-v1-2025 default), and any directory holding one, could
// never be fetched over Bitswap: boxo's server answers a want for a
// zero-length block with HAVE, never with the block (decision engine:
// isWantBlock requires blockSize != 0), Kubo's server included.
type emptyBlocks struct {
	blockstore.Blockstore
}

func (s *emptyBlocks) Has(ctx context.Context, k cid.Cid) (bool, error) {
	if isEmptyBlock(k) {
		return true, nil
	}
	return s.Blockstore.Has(ctx, k)
}

func (s *emptyBlocks) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if isEmptyBlock(k) {
		return blocks.NewBlockWithCid(nil, k)
	}
	return s.Blockstore.Get(ctx, k)
}

func (s *emptyBlocks) GetSize(ctx context.Context, k cid.Cid) (int, error) {
	if isEmptyBlock(k) {
		return 0, nil
	}
	return s.Blockstore.GetSize(ctx, k)
}

// Put skips an empty block; a block that claims the empty hash but has
// bytes goes on down, where verification refuses it.
func (s *emptyBlocks) Put(ctx context.Context, b blocks.Block) error {
	if isEmptyBlock(b.Cid()) && len(b.RawData()) == 0 {
		return nil
	}
	return s.Blockstore.Put(ctx, b)
}

func (s *emptyBlocks) PutMany(ctx context.Context, bs []blocks.Block) error {
	keep := make([]blocks.Block, 0, len(bs))
	for _, b := range bs {
		if !isEmptyBlock(b.Cid()) || len(b.RawData()) != 0 {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return s.Blockstore.PutMany(ctx, keep)
}
