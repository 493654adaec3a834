package content

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Checked is the number of blocks read and re-hashed.
	Checked int
	// Corrupt lists the blocks whose stored bytes do not hash to their key.
	Corrupt []cid.Cid
}

// Verify reads every stored block, re-hashes it and reports those whose
// bytes do not match their key, calling bad (if not nil) with each as it
// is found. Blocks come from beneath the verifying store, which would
// refuse to return a corrupt block rather than report it; they are named
// by CIDv1 raw, as the store keys them by multihash alone.
func (c *Content) Verify(ctx context.Context, bad func(cid.Cid) error) (VerifyResult, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return VerifyResult{}, err
	}
	defer done()
	raw := blockstore.NewBlockstore(c.ds)
	keys, err := raw.AllKeysChan(ctx)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify: list blocks: %w", err)
	}
	var res VerifyResult
	for k := range keys {
		b, err := raw.Get(ctx, k)
		if ipld.IsNotFound(err) {
			continue // collected since it was listed
		}
		if err != nil {
			drain(keys)
			return res, fmt.Errorf("verify: read %s: %w", k, err)
		}
		res.Checked++
		if verify(b) == nil {
			continue
		}
		res.Corrupt = append(res.Corrupt, k)
		if bad != nil {
			if err := bad(k); err != nil {
				drain(keys)
				return res, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	return res, nil
}
