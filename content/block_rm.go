package content

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// ErrPinned is matched (errors.Is) by RemoveBlocks' error for a block a pin
// keeps.
var ErrPinned = errors.New("pinned")

// RemoveBlocks deletes each of ks from the store, as Kubo's block rm does,
// calling each with the block and nil, or why it was kept: ErrPinned
// (wrapped) for a block any pin keeps, ipld's not-found error for one the
// store lacks. It holds the GC lock throughout, so no add or pin can come
// to need a block between the pin check and the delete. An error from
// each stops it.
func (c *Content) RemoveBlocks(ctx context.Context, ks []cid.Cid, each func(cid.Cid, error) error) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	unlock := c.bstore.GCLock(ctx)
	defer unlock.Unlock(ctx)
	pins, err := c.CheckPins(ctx, ks...)
	if err != nil {
		return fmt.Errorf("block rm: %w", err)
	}
	for i, k := range ks {
		if err := each(k, c.removeOne(ctx, k, pins[i].Type)); err != nil {
			return err
		}
	}
	return nil
}

// removeOne deletes k unless pinned (pinType not "") or absent.
func (c *Content) removeOne(ctx context.Context, k cid.Cid, pinType string) error {
	if pinType != "" {
		return fmt.Errorf("%w: %s", ErrPinned, pinType)
	}
	has, err := c.bstore.Has(ctx, k)
	if err != nil {
		return err
	}
	if !has {
		return ipld.ErrNotFound{Cid: k}
	}
	return c.bstore.DeleteBlock(ctx, k)
}
