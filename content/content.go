// Package content is Cairn's content layer: a verifying blockstore, UnixFS
// import and read, block exchange over Bitswap, pins and the announcement of
// what this node provides. It is wiring over boxo; each file holds one
// concern (blockstore, import, exchange, pins, provide, datastore).
package content

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	unixfile "github.com/ipfs/boxo/ipld/unixfs/file"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/provider"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/multiformats/go-multicodec"
	mh "github.com/multiformats/go-multihash"

	// Pin and walk blocks of these codecs too, not only dag-pb and raw
	// (which merkledag registers): PutBlock accepts any codec, as Kubo's
	// block put does, and a recursive pin must be able to read its links.
	_ "github.com/ipld/go-ipld-prime/codec/dagcbor"
	_ "github.com/ipld/go-ipld-prime/codec/dagjson"
)

// ErrClosed is returned by every method called after, or cut short by, Close.
var ErrClosed = errors.New("content: closed")

// Router is what content needs from routing: Provide to announce, and
// FindProvidersAsync to find peers for Bitswap. The dual DHT satisfies it.
type Router interface {
	routing.ContentRouting
}

// Content is a node's content layer. Its methods are safe for concurrent
// use; Close stops it.
type Content struct {
	cfg Config
	ds  datastore.Batching

	bstore blockstore.GCBlockstore
	host   host.Host        // nil when offline
	bswap  *bitswap.Bitswap // nil when offline
	bserv  blockservice.BlockService
	dag    ipld.DAGService
	pins   pin.Pinner
	prov   provider.System

	// fast fetches files from peers as CAR streams and fastSrv serves
	// them (fastread.go); both nil when offline or content.fast_path is
	// off.
	fast    *fastpath.Fetcher
	fastSrv *fastpath.Server

	// sized counts stored blocks (stat.go); barrier, the top of bstore,
	// protects blocks touched during a collection, and gcRun lets one
	// collection run at a time (gc.go).
	sized   *sizedStore
	barrier *gcBarrier
	gcRun   sync.Mutex

	// scrubbed, if set (by tests), receives each scrub's result.
	scrubbed chan VerifyResult

	// life is cancelled by Close; every call runs under a context derived
	// from it (see begin), and ops lets Close wait for them.
	life      context.Context
	stop      context.CancelFunc
	mu        sync.Mutex // guards closed and ops.Add
	closed    bool
	ops       sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New builds the content layer over ds, exchanging blocks with peers through
// h and finding and announcing providers through r. h may be nil for an
// offline node (local blocks only, nothing announced); r may be nil, in which
// case Bitswap asks only connected peers and nothing is announced.
//
// ctx bounds construction only; the Content lives until Close. ds stays owned
// by the caller, who closes it after Close.
func New(ctx context.Context, h host.Host, r Router, ds datastore.Batching, cfg Config) (_ *Content, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ds == nil {
		return nil, errors.New("content: nil datastore")
	}
	c := &Content{cfg: cfg, ds: ds, host: h}
	if err := removeStaleStages(cfg.StageDir); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	// Lifetime values (loggers, tracing) come from ctx, its cancellation
	// does not: Close is the one way to stop.
	c.life, c.stop = context.WithCancel(context.WithoutCancel(ctx))

	var undo []func() error
	defer func() {
		if err == nil {
			return
		}
		c.stop()
		errs := []error{err}
		for i := len(undo) - 1; i >= 0; i-- {
			errs = append(errs, undo[i]())
		}
		err = errors.Join(errs...)
	}()

	c.prov, err = newProvider(ds, r, h != nil, cfg.ReprovideInterval)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	undo = append(undo, c.prov.Close)
	announce := queueProvider{c.prov}

	var bsOpts []blockstore.Option
	if cfg.ProvideStrategy == StrategyAll {
		// Every block new to the store is announced as it is written.
		bsOpts = append(bsOpts, blockstore.Provider(announce))
	}
	if c.bstore, err = c.trackedStore(ctx, newBlockstore(ds, bsOpts...)); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}

	var ex exchange.Interface
	if h != nil {
		c.bswap = newBitswap(c.life, h, r, c.bstore)
		ex = c.bswap
		if cfg.StorageMax > 0 {
			// A full store refuses fetches up front (stat.go).
			ex = limitedExchange{c.bswap, c.sized}
		}
		undo = append(undo, func() error { return stopBitswap(h, c.bswap) })
	}
	// WriteThrough: the blockstore already skips blocks it has, so the
	// blockservice's own Has before every write would be a second read.
	c.bserv = blockservice.New(c.bstore, ex, blockservice.WriteThrough(true))
	c.dag = merkledag.NewDAGService(c.bserv)
	if h != nil && cfg.FastPath {
		// Peers get what this node holds, never a fetch on their behalf.
		if c.fastSrv, err = fastpath.NewServer(h, blockservice.New(c.bstore, nil)); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		undo = append(undo, c.fastSrv.Close)
		opts := fastpath.Options{}
		if r != nil {
			opts.Providers = r
		}
		if c.fast, err = fastpath.NewFetcher(h, opts); err != nil {
			return nil, fmt.Errorf("content: %w", err)
		}
		undo = append(undo, c.fast.Close)
	}

	c.pins, err = newPinner(ctx, ds, c.dag, cfg.ProvideStrategy, announce)
	if err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	undo = append(undo, c.pins.Close)
	c.prov.SetKeyProvider(reprovideKeys(cfg.ProvideStrategy, c.pins, c.bstore))
	if cfg.ScrubInterval > 0 {
		c.startScrub(cfg.ScrubInterval)
	}
	return c, nil
}

// Close stops Bitswap and the provider system, after cancelling and waiting
// for the calls in flight, and syncs the datastore, which it does not close.
// Files returned by Node stop reading from the network. Safe to call twice;
// later calls return the first call's result.
func (c *Content) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		c.stop()
		c.ops.Wait()

		var errs []error
		if c.fastSrv != nil {
			errs = append(errs, c.fastSrv.Close(), c.fast.Close())
		}
		if c.bswap != nil {
			errs = append(errs, stopBitswap(c.host, c.bswap))
		}
		errs = append(errs, c.pins.Close())
		// The provider flushes its queue to the datastore on Close, so
		// announcements not yet sent survive a restart.
		errs = append(errs, c.prov.Close())
		// Saved counters spare the next start a scan of every block.
		errs = append(errs, c.sized.save(context.Background(), c.ds))
		if err := c.ds.Sync(context.Background(), datastore.NewKey("/")); err != nil {
			errs = append(errs, fmt.Errorf("sync datastore: %w", err))
		}
		if err := errors.Join(errs...); err != nil {
			c.closeErr = fmt.Errorf("content: close: %w", err)
		}
	})
	return c.closeErr
}

// begin admits a call unless Content is closed. The returned context is
// cancelled by the caller's or by Close; done must be called when the call
// ends.
func (c *Content) begin(ctx context.Context) (context.Context, func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ctx, func() {}, ErrClosed
	}
	c.ops.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(c.life, cancel)
	return ctx, func() {
		unhook()
		cancel()
		c.ops.Done()
	}, nil
}

// Node opens root as a boxo files.Node: a files.File for a UnixFS file or raw
// block, a files.Directory for a directory. Blocks are read from the store or
// fetched from peers (the fast path from peers that serve it, else one
// Bitswap session per Node) as the caller reads, for as long as ctx lives:
// cancel ctx when done with the node, which ends the fetch.
func (c *Content) Node(ctx context.Context, root cid.Cid) (files.Node, error) {
	return c.NodeRange(ctx, root, 0, -1)
}

// NodeRange is Node for a reader that wants only length bytes (length < 0:
// all) of the file from offset: the fast path fetches only those. Reading
// outside them still works, through Bitswap.
func (c *Content) NodeRange(ctx context.Context, root cid.Cid, offset, length int64) (files.Node, error) {
	// The session lives on ctx, not on the call's context, because reads
	// go on after Node returns; Close still ends them by stopping Bitswap.
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	opCtx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	// The fast path and the read-ahead are owned like calls: they end
	// with ctx (the read) or with Close, which waits for them.
	bgCtx, bgDone, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	to := int64(-1)
	if length >= 0 {
		// At least one byte, or a zero length would read as "to the end".
		to = offset + max(length, 1) - 1
	}
	dag, job := c.startFast(bgCtx, root, offset, to, offset == 0 && length < 0)
	if dag == nil {
		dag = c.dag
	}
	f, nd, err := c.open(opCtx, ctx, dag, root)
	if err != nil {
		if job != nil {
			job.Close()
		}
		bgDone()
		return nil, err
	}
	_, isFile := f.(files.File)
	readAhead := isFile && len(nd.Links()) > 0 && c.bswap != nil
	if job == nil && !readAhead {
		bgDone()
		return f, nil
	}
	go func() {
		defer bgDone()
		if job != nil {
			// A directory's job fetches all of it, for the reads of
			// its files to come; it lives as long as the read.
			defer job.Close()
			select {
			case <-job.Ended():
			case <-bgCtx.Done():
				return
			}
			if job.Err() == nil || !readAhead {
				return
			}
			// Bitswap fetches what the fast path left.
			logger().Debug("fast path ended early; Bitswap takes over", "root", root, "err", job.Err())
		}
		c.readAhead(bgCtx, nd)
	}()
	return f, nil
}

// open reads root through dag and opens it as a file or directory whose
// reads live on readCtx.
// A file's read errors name the block it waited for in vain (missing.go).
func (c *Content) open(ctx, readCtx context.Context, dag ipld.DAGService, root cid.Cid) (files.Node, ipld.Node, error) {
	nd, err := dag.Get(ctx, root)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", root, err)
	}
	t := &missingTracker{}
	f, err := unixfile.NewUnixfsFile(readCtx, trackedDAG{dag, t}, nd)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", root, err)
	}
	if file, ok := f.(files.File); ok {
		if _, link := f.(*files.Symlink); !link {
			f = trackedFile{file, t}
		}
	}
	return f, nd, nil
}

// GetBlock returns the block k, from the store or fetched from peers. Either
// way its bytes were checked against k.
func (c *Content) GetBlock(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	b, err := c.bserv.GetBlock(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("get block %s: %w", k, err)
	}
	return b, nil
}

// PutBlock stores data as one block and returns its CIDv1, built from a
// multicodec name (codec, default "raw"), a multihash name (mhType, default
// the configured hash function) and a digest length (mhLen, ≤ 0 for the
// function's default), as Kubo's block put does. The block is pinned
// directly when pin is set, and announced.
func (c *Content) PutBlock(ctx context.Context, data []byte, codec string, mhType string, mhLen int, pinIt bool) (cid.Cid, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return cid.Undef, err
	}
	defer done()
	k, err := c.blockCID(data, codec, mhType, mhLen)
	if err != nil {
		return cid.Undef, fmt.Errorf("put block: %w", err)
	}
	b, err := blocks.NewBlockWithCid(data, k)
	if err != nil {
		return cid.Undef, fmt.Errorf("put block %s: %w", k, err)
	}
	unlock := c.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	// AddBlock also tells Bitswap, so peers already waiting get it now.
	if err := c.bserv.AddBlock(ctx, b); err != nil {
		return cid.Undef, fmt.Errorf("put block %s: %w", k, err)
	}
	if pinIt {
		if err := c.pins.PinWithMode(ctx, k, pin.Direct, ""); err != nil {
			return cid.Undef, fmt.Errorf("put block %s: pin: %w", k, err)
		}
	}
	c.announce(ctx, k)
	return k, nil
}

// blockCID computes the CID PutBlock gives data.
func (c *Content) blockCID(data []byte, codec, mhType string, mhLen int) (cid.Cid, error) {
	if len(data) > chunk.BlockSizeLimit {
		return cid.Undef, fmt.Errorf("block of %d bytes exceeds the %d-byte limit peers accept", len(data), chunk.BlockSizeLimit)
	}
	if codec == "" {
		codec = "raw"
	}
	var mc multicodec.Code
	if err := mc.Set(codec); err != nil {
		return cid.Undef, fmt.Errorf("codec %q: %w", codec, err)
	}
	if mhType == "" {
		mhType = c.cfg.HashFunction
	}
	code, ok := mh.Names[mhType]
	if !ok {
		return cid.Undef, fmt.Errorf("unknown multihash %q", mhType)
	}
	if mhLen <= 0 {
		mhLen = -1
	}
	return cid.Prefix{Version: 1, Codec: uint64(mc), MhType: code, MhLength: mhLen}.Sum(data)
}

// logger is looked up on each use so that a default set by main after this
// package is loaded still applies.
func logger() *slog.Logger { return slog.Default() }
