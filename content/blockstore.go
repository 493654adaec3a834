package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
)

// ErrHashMismatch is matched (errors.Is) by the error for a block whose bytes
// do not hash to its CID, whether offered for storage or found in storage.
// It is boxo's own sentinel, so errors from boxo's stores match too.
var ErrHashMismatch = blockstore.ErrHashMismatch

// hashMismatchError names the block; it reads "block <cid>: hash mismatch".
type hashMismatchError struct{ c cid.Cid }

func (e *hashMismatchError) Error() string {
	return "block " + e.c.String() + ": hash mismatch"
}

func (e *hashMismatchError) Is(target error) bool { return target == ErrHashMismatch }

// verify re-hashes data with the CID's own prefix: nothing enters or leaves
// the store on trust, be it from the importer, a peer or the disk.
func verify(b blocks.Block) error {
	got, err := b.Cid().Prefix().Sum(b.RawData())
	if err != nil {
		return fmt.Errorf("block %s: %w", b.Cid(), err)
	}
	if !got.Equals(b.Cid()) {
		return &hashMismatchError{b.Cid()}
	}
	return nil
}

// verifyingStore checks every block against its CID on Put and PutMany, and,
// through boxo's ValidatingBlockstore (the successor of HashOnRead), on Get.
type verifyingStore struct {
	blockstore.ValidatingBlockstore
}

// verifiedBlock is a block this package has already checked against its
// CID (the fast path's CAR reader hashes every block it accepts), which
// the verifying store does not hash a second time. Only this package makes
// one.
type verifiedBlock struct{ blocks.Block }

// Put stores b only if its bytes hash to its CID.
func (s *verifyingStore) Put(ctx context.Context, b blocks.Block) error {
	if _, ok := b.(verifiedBlock); !ok {
		if err := verify(b); err != nil {
			return err
		}
	}
	return s.ValidatingBlockstore.Put(ctx, b)
}

// PutMany verifies every block before writing any, so a batch with one bad
// block stores nothing.
func (s *verifyingStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if err := verify(b); err != nil {
			return err
		}
	}
	return s.ValidatingBlockstore.PutMany(ctx, bs)
}

// Get returns the block only if the stored bytes still hash to k, so a
// corrupted disk is never served to a peer or a reader.
func (s *verifyingStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	b, err := s.ValidatingBlockstore.Get(ctx, k)
	if errors.Is(err, ErrHashMismatch) {
		return nil, &hashMismatchError{k}
	}
	return b, err
}

// newBlockstore layers, from the datastore up: boxo's blockstore under
// /blocks (with opts, e.g. announcing each new block), the verifying
// store, the empty-block store (the zero-byte block is implied by its CID,
// see empty.go), boxo's identity-CID store (identity blocks live in the CID
// and are never written) and a GC locker so a future collector cannot race
// an import that is not yet pinned.
func newBlockstore(ds datastore.Batching, opts ...blockstore.Option) blockstore.GCBlockstore {
	base := blockstore.NewBlockstore(ds, opts...)
	verified := &verifyingStore{blockstore.ValidatingBlockstore{Blockstore: base}}
	return blockstore.NewGCBlockstore(blockstore.NewIdStore(&emptyBlocks{verified}), blockstore.NewGCLocker())
}
