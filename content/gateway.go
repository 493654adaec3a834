package content

import (
	"context"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// BlockService is the store-or-fetch block service for readers that work
// on blocks themselves, as boxo's gateway does. Its fetches go to the
// fast-path job Prefetch put in the call's context, if any, else through
// Bitswap, and land in the verifying blockstore, like any other fetch,
// unpinned. Calls on it are not tracked by Close: the caller stops using
// it before closing the Content (the node stops its shell first).
func (c *Content) BlockService() blockservice.BlockService {
	if c.fast == nil {
		return c.bserv
	}
	return blockservice.New(readStore{c.bstore, prefetchJob}, prefetchExchange{c})
}

// prefetchKey carries a fast-path job in a context.
type prefetchKey struct{}

// Prefetch starts fetching the bytes [from, to] (to < 0: all) of root
// over the fast path, when root is not stored and a connected peer serves
// it, for the BlockService calls made under the returned context. done
// stops the fetch; call it when the request is over. Without a fast peer
// it returns ctx and a done that does nothing.
func (c *Content) Prefetch(ctx context.Context, root cid.Cid, from, to int64) (context.Context, func()) {
	noop := func() {}
	if c.fast == nil {
		return ctx, noop
	}
	jobCtx, jobDone, err := c.begin(ctx)
	if err != nil {
		return ctx, noop
	}
	// A file's bytes only: a directory listing needs its entries'
	// roots, not all their blocks.
	_, job := c.startFast(jobCtx, root, from, to, false)
	if job == nil {
		jobDone()
		return ctx, noop
	}
	// One Bitswap session for whatever the job does not bring.
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	return context.WithValue(ctx, prefetchKey{}, job), func() {
		job.Close()
		jobDone()
	}
}

func prefetchJob(ctx context.Context) *fastpath.Job {
	j, _ := ctx.Value(prefetchKey{}).(*fastpath.Job)
	return j
}

// prefetchExchange serves BlockService's misses from the context's job,
// else through Bitswap.
type prefetchExchange struct{ c *Content }

var _ exchange.Interface = prefetchExchange{}

func (e prefetchExchange) GetBlock(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if job := prefetchJob(ctx); job != nil {
		return fastExchange{job: job, bstore: e.c.bstore, fallback: e.c.bserv}.GetBlock(ctx, k)
	}
	return e.c.bserv.GetBlock(ctx, k)
}

func (e prefetchExchange) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	if job := prefetchJob(ctx); job != nil {
		return fastExchange{job: job, bstore: e.c.bstore, fallback: e.c.bserv}.GetBlocks(ctx, ks)
	}
	return e.c.bserv.GetBlocks(ctx, ks), nil
}

func (prefetchExchange) NotifyNewBlocks(context.Context, ...blocks.Block) error { return nil }
func (prefetchExchange) Close() error                                           { return nil }
