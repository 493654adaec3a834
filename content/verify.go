package content

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	// Checked is the number of blocks read and re-hashed.
	Checked int
	// Damaged lists the blocks whose stored bytes are damaged: unreadable,
	// failing their checksum or not hashing to their key.
	Damaged []cid.Cid
	// Repaired lists those of Damaged that a repair stored sound again.
	Repaired []cid.Cid
}

// DamagedBlock is one damaged block Verify found.
type DamagedBlock struct {
	Cid cid.Cid
	// Err says what is wrong with it.
	Err error
	// Repaired is set when a repair stored it sound again; RepairErr says
	// why a repair that was asked for did not.
	Repaired  bool
	RepairErr error
}

// repairTimeout bounds the fetch of one damaged block from peers.
const repairTimeout = 30 * time.Second

// Verify reads every stored block, re-hashes it with its CID's own hash
// and reports (calling report, if not nil) each one that is damaged,
// going on to the end. With repair it fetches each damaged block again
// from peers, through the exchange (which checks what arrives) and stores
// it over the damaged copy; a damaged block may also be repaired by adding
// its content again. Blocks are read from beneath the verifying store,
// which would refuse a damaged block rather than report it; they are
// named by CIDv1 raw, as the store keys them by multihash alone.
func (c *Content) Verify(ctx context.Context, repair bool, report func(DamagedBlock) error) (VerifyResult, error) {
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
	defer drain(keys)
	var res VerifyResult
	for k := range keys {
		bad, err := c.checkBlock(ctx, raw, k)
		if errors.Is(err, errGone) {
			continue
		}
		res.Checked++
		if err != nil {
			return res, fmt.Errorf("verify: read %s: %w", k, err)
		}
		if bad == nil {
			continue
		}
		d := DamagedBlock{Cid: k, Err: bad}
		res.Damaged = append(res.Damaged, k)
		if repair {
			if d.RepairErr = c.repair(ctx, k); d.RepairErr == nil {
				d.Repaired = true
				res.Repaired = append(res.Repaired, k)
			}
		}
		if report != nil {
			if err := report(d); err != nil {
				return res, err
			}
		}
	}
	// AllKeysChan closes its channel early, without saying so, when ctx
	// ends; a cut-short verify must not look complete.
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	return res, nil
}

// errGone is checkBlock's answer for a block collected since it was listed.
var errGone = errors.New("gone")

// checkBlock reads k from raw and re-hashes it, returning what is wrong
// with it (nil: it is sound). err is for a read that could not tell: the
// context ended or the store closed.
func (c *Content) checkBlock(ctx context.Context, raw blockstore.Blockstore, k cid.Cid) (bad, err error) {
	b, err := raw.Get(ctx, k)
	switch {
	case err == nil:
	case ipld.IsNotFound(err):
		return nil, errGone
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		// Damaged (ErrDamaged, marked by the packs already) or unreadable:
		// either way it cannot be served.
		return err, nil
	}
	if err := verify(b); err != nil {
		// Sound to its checksum, yet not to its hash: its checksum was
		// taken over bytes that were already wrong. Marked, so that it
		// is no longer served and a put repairs it.
		if p := packsOf(c.ds); p != nil {
			if mErr := p.MarkDamaged(ctx, dshelp.MultihashToDsKey(k.Hash())); mErr != nil {
				logger().Warn("could not mark a damaged block", "cid", k, "err", mErr)
			}
		}
		return err, nil
	}
	return nil, nil
}

// repair fetches k again from peers and stores it, checking that it then
// reads back sound.
func (c *Content) repair(ctx context.Context, k cid.Cid) error {
	if c.bswap == nil {
		return errors.New("offline: no peer to fetch it from; add its content again to repair it")
	}
	ctx, cancel := context.WithTimeout(ctx, repairTimeout)
	defer cancel()
	// The store answers a damaged block as missing, so the block service
	// fetches it; what arrives is checked against k on the way in.
	if _, err := c.bserv.GetBlock(ctx, k); err != nil {
		return fmt.Errorf("fetch from peers: %w", err)
	}
	if _, err := c.bstore.Get(ctx, k); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	return nil
}
