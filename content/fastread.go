package content

import (
	"context"
	"errors"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// startFast starts the fast-path fetch of the bytes [from, to] of root (to
// < 0: to the end) for a read that lives on ctx, when root is not stored
// and a connected peer serves it; whole also fetches a directory's (or
// another non-file DAG's) every block. It returns
// the DAG the read should go through and a cleanup to run when the read
// ends; nil, nil when the read should use Bitswap alone.
func (c *Content) startFast(ctx context.Context, root cid.Cid, from, to int64, whole bool) (ipld.DAGService, *fastpath.Job) {
	if c.fast == nil {
		return nil, nil
	}
	if has, err := c.bstore.Has(ctx, root); err != nil || has {
		return nil, nil
	}
	if c.sized.errIfFull() != nil {
		// Bitswap's exchange refuses the read, saying why.
		return nil, nil
	}
	var job *fastpath.Job
	var err error
	if whole {
		job, err = c.fast.Fetch(ctx, root, c.storeFetched)
	} else {
		job, err = c.fast.FetchRange(ctx, root, from, to, c.storeFetched)
	}
	if err != nil || job == nil {
		if err != nil {
			logger().Debug("fast path not used", "root", root, "err", err)
		}
		return nil, nil
	}
	ex := fastExchange{job: job, bstore: c.bstore, fallback: c.bserv}
	fixed := func(context.Context) *fastpath.Job { return job }
	return merkledag.NewDAGService(blockservice.New(readStore{c.bstore, fixed}, ex)), job
}

// storeFetched keeps a block the fast path verified, unless the store is
// full. The verifying store does not hash it again.
func (c *Content) storeFetched(ctx context.Context, b blocks.Block) error {
	if err := c.sized.errIfFull(); err != nil {
		return err
	}
	// AddBlock also tells Bitswap, so peers asking this node get it too.
	return c.bserv.AddBlock(ctx, verifiedBlock{b})
}

// fastExchange gives a read the blocks of a fast-path job as the job
// stores them, and fetches through Bitswap what the job does not bring
// (it failed, or the block is outside the file it fetches).
type fastExchange struct {
	job      *fastpath.Job
	bstore   blockstore.Blockstore
	fallback blockservice.BlockService
}

var _ exchange.Interface = fastExchange{}

// GetBlock waits for the job to verify k, else fetches it through
// Bitswap.
func (e fastExchange) GetBlock(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if e.job.Wait(ctx, k) {
		if b, ok := e.job.Block(k); ok {
			return b, nil
		}
		if b, err := e.bstore.Get(ctx, k); err == nil {
			return b, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The fallback stores what it fetches.
	return e.fallback.GetBlock(ctx, k)
}

// GetBlocks gets ks in order, as GetBlock does.
func (e fastExchange) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	out := make(chan blocks.Block, len(ks))
	go func() {
		defer close(out)
		for _, k := range ks {
			b, err := e.GetBlock(ctx, k)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					logger().Debug("fast read: block not fetched", "cid", k, "err", err)
				}
				return
			}
			out <- b
		}
	}()
	return out, nil
}

// NotifyNewBlocks does nothing: the blocks a read sees are already stored
// and announced by whoever stored them.
func (fastExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }

// Close does nothing; the job is closed by the read that started it.
func (fastExchange) Close() error { return nil }

// readStore is the blockstore under a block service that reads through a
// fast-path job (job gives the call's, or nil). It gives the blocks the
// job holds in memory without a disk read, and skips the block service's
// write-back after a fetch: every block its exchange returns was stored
// already, by the job or by the Bitswap fallback, and writing it again
// would hash and write it a second time.
type readStore struct {
	blockstore.Blockstore
	job func(context.Context) *fastpath.Job
}

func (s readStore) Get(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if job := s.job(ctx); job != nil {
		if b, ok := job.Block(k); ok {
			return b, nil
		}
	}
	return s.Blockstore.Get(ctx, k)
}

func (readStore) Put(context.Context, blocks.Block) error       { return nil }
func (readStore) PutMany(context.Context, []blocks.Block) error { return nil }
