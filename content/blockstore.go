package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/cairnnet/cairn/content/packstore"
)

// ErrHashMismatch is matched (errors.Is) by the error for a block whose bytes
// do not hash to its CID, whether offered for storage or found in storage.
// It is boxo's own sentinel, so errors from boxo's stores match too.
var ErrHashMismatch = blockstore.ErrHashMismatch

// hashMismatchError names the block; it reads "block <cid>: hash mismatch".
type hashMismatchError struct{ c cid.Cid }

// Error says what is wrong.
func (e *hashMismatchError) Error() string {
	return "block " + e.c.String() + ": hash mismatch"
}

// Is matches the sentinels the error stands for.
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

// ErrDamaged is matched (errors.Is) by the error of a read that found a
// block's stored bytes damaged: failing their checksum, missing from
// their pack, or (when found by Verify or a store without checksums) not
// hashing to their CID. The same error matches ErrHashMismatch and
// ipld's not-found: a damaged block is never served, and a read through
// the exchange fetches it again from peers, which repairs it.
var ErrDamaged = packstore.ErrDamaged

// damagedError names the damaged block and says how to repair it.
type damagedError struct {
	c     cid.Cid
	cause error
}

// Error says what is wrong.
func (e *damagedError) Error() string {
	return fmt.Sprintf("block %s is damaged on disk (%v); fetching it again or adding it again repairs it", e.c, e.cause)
}

// Unwrap returns the cause.
func (e *damagedError) Unwrap() error { return e.cause }

// Is matches the sentinels the error stands for.
func (e *damagedError) Is(target error) bool {
	if _, ok := target.(ipld.ErrNotFound); ok {
		return true
	}
	return target == ErrHashMismatch || target == ErrDamaged
}

// verifyingStore checks every block against its CID on Put and PutMany,
// so nothing enters the store on trust. At rest, the packs check each
// block's checksum on every read (checked); a store without checksums
// (flatfs, memory) has each block re-hashed on every read instead. Either
// way damaged bytes give a damagedError, never the bytes.
//
// A put of a block already stored reads the stored copy first and
// writes over it if it is damaged, so that adding content again repairs
// it (base writes through: the check whether the block is there is this
// store's).
type verifyingStore struct {
	base    blockstore.Blockstore
	checked bool
}

// verifiedBlock is a block this package has already checked against its
// CID (the fast path's CAR reader hashes every block it accepts, an
// import computes each CID from the bytes), which the verifying store
// does not hash a second time. Only this package makes one.
type verifiedBlock struct{ blocks.Block }

func checkIncoming(b blocks.Block) error {
	if _, ok := b.(verifiedBlock); ok {
		return nil
	}
	return verify(b)
}

// Put stores b only if its bytes hash to its CID, and only if a sound
// copy is not stored already.
func (s *verifyingStore) Put(ctx context.Context, b blocks.Block) error {
	if err := checkIncoming(b); err != nil {
		return err
	}
	if s.holds(ctx, b.Cid()) {
		return nil
	}
	return s.base.Put(ctx, b)
}

// PutMany verifies every block before writing any, so a batch with one bad
// block stores nothing.
func (s *verifyingStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	for _, b := range bs {
		if err := checkIncoming(b); err != nil {
			return err
		}
	}
	missing := make([]blocks.Block, 0, len(bs))
	for _, b := range bs {
		if !s.holds(ctx, b.Cid()) {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return s.base.PutMany(ctx, missing)
}

// holds reports whether a sound copy of k is stored: one that Has finds
// and that reads back whole.
func (s *verifyingStore) holds(ctx context.Context, k cid.Cid) bool {
	if has, err := s.base.Has(ctx, k); err != nil || !has {
		return false
	}
	_, err := s.Get(ctx, k)
	return err == nil
}

// Get returns the block only if its stored bytes are sound: checked
// against their checksum by the packs, or re-hashed.
func (s *verifyingStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	b, err := s.base.Get(ctx, k)
	if errors.Is(err, ErrDamaged) {
		return nil, &damagedError{k, err}
	}
	if err != nil || s.checked {
		return b, err
	}
	if err := verify(b); err != nil {
		return nil, &damagedError{k, err}
	}
	return b, nil
}

// DeleteBlock removes k.
func (s *verifyingStore) DeleteBlock(ctx context.Context, k cid.Cid) error {
	return s.base.DeleteBlock(ctx, k)
}

// Has reports whether k is stored.
func (s *verifyingStore) Has(ctx context.Context, k cid.Cid) (bool, error) {
	return s.base.Has(ctx, k)
}

// GetSize returns k's length.
func (s *verifyingStore) GetSize(ctx context.Context, k cid.Cid) (int, error) {
	return s.base.GetSize(ctx, k)
}

// AllKeysChan lists every stored block.
func (s *verifyingStore) AllKeysChan(ctx context.Context) (<-chan cid.Cid, error) {
	return s.base.AllKeysChan(ctx)
}

// newBlockstore layers, from the datastore up: boxo's blockstore under
// /blocks (with opts, e.g. announcing each new block), the verifying
// store, the empty-block store (the zero-byte block is implied by its CID,
// see empty.go), boxo's identity-CID store (identity blocks live in the CID
// and are never written) and a GC locker so a future collector cannot race
// an import that is not yet pinned.
func newBlockstore(ds datastore.Batching, opts ...blockstore.Option) blockstore.GCBlockstore {
	base := blockstore.NewBlockstore(ds, append(opts, blockstore.WriteThrough(true))...)
	verified := &verifyingStore{base: base, checked: packsOf(ds) != nil}
	return blockstore.NewGCBlockstore(blockstore.NewIdStore(&emptyBlocks{verified}), blockstore.NewGCLocker())
}
