package content

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cairnnet/cairn/content/fastpath"
	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore/mount"
)

// ErrNotFile is WriteFileTo's answer for a root that is a directory (or
// another DAG that is not one file).
var ErrNotFile = errors.New("not a file")

// WriteFileTo writes the UnixFS file root into w, each byte at its offset,
// and returns the file's size. When root is not stored and connected peers
// serve it on the fast path, every verified block's bytes go to w as they
// arrive, from all peers at once, without a reader in between; the blocks
// are stored as well. Otherwise the file is read from the store and
// Bitswap. w may be written out of order and more than once at the same
// offset; its size is not set here (the caller truncates it to the size
// returned).
func (c *Content) WriteFileTo(ctx context.Context, root cid.Cid, w io.WriterAt) (int64, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return 0, err
	}
	defer done()
	if job := c.startFastTo(ctx, root, w); job != nil {
		n, err := c.awaitFastTo(ctx, root, job)
		if err == nil || errors.Is(err, ErrNotFile) || ctx.Err() != nil {
			return n, err
		}
		logger().Debug("fast path ended early; reading the rest", "root", root, "err", err)
	}
	return c.writeFromDAG(ctx, root, w)
}

// startFastTo starts a fast-path FetchTo job for root into w, or returns
// nil when root is stored or no connected peer serves it.
func (c *Content) startFastTo(ctx context.Context, root cid.Cid, w io.WriterAt) *fastpath.Job {
	if c.fast == nil || c.sized.errIfFull() != nil {
		return nil
	}
	if has, err := c.bstore.Has(ctx, root); err != nil || has {
		return nil
	}
	store, reuse := c.storeFetched, false
	if c.storeCopies() {
		store, reuse = c.storeOwned, true
	}
	job, err := c.fast.FetchTo(ctx, root, w, store, reuse)
	if err != nil {
		logger().Debug("fast path not used", "root", root, "err", err)
		return nil
	}
	return job
}

// awaitFastTo waits for job to end, with every block it verified stored,
// and returns the file's size.
func (c *Content) awaitFastTo(ctx context.Context, root cid.Cid, job *fastpath.Job) (int64, error) {
	defer job.Close()
	select {
	case <-job.Ended():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err := job.Err(); err != nil {
		return 0, err
	}
	if n := job.Size(); n >= 0 {
		return n, nil
	}
	return 0, fmt.Errorf("%s: %w", root, ErrNotFile)
}

// writeFromDAG reads root through the UnixFS reader (the store, then
// Bitswap) into w from offset 0.
func (c *Content) writeFromDAG(ctx context.Context, root cid.Cid, w io.WriterAt) (int64, error) {
	nd, err := c.Node(ctx, root)
	if err != nil {
		return 0, err
	}
	defer nd.Close()
	f, ok := nd.(files.File)
	if _, link := nd.(*files.Symlink); link || !ok {
		return 0, fmt.Errorf("%s: %w", root, ErrNotFile)
	}
	// The reader's WriteTo writes each leaf straight to w.
	n, err := io.Copy(io.NewOffsetWriter(w, 0), f)
	if err != nil {
		return n, fmt.Errorf("read %s: %w", root, err)
	}
	return n, nil
}

// storeCopies reports whether the block store copies what it is given
// (packs, flatfs) rather than keeping the slice (the memory store).
func (c *Content) storeCopies() bool {
	switch c.ds.(type) {
	case *mount.Datastore, *repoStore, *durableStore:
		return true
	}
	return false
}

// storeOwned is storeFetched for a block whose bytes the caller reuses
// once it returns: the store copies them, and Bitswap's server learns of
// the block by its CID and size. Only a local Bitswap session waiting for
// this very block would keep it, so it gets a copy of its own.
func (c *Content) storeOwned(ctx context.Context, b blocks.Block) error {
	if err := c.sized.errIfFull(); err != nil {
		return err
	}
	if err := c.bstore.Put(ctx, verifiedBlock{b}); err != nil {
		return err
	}
	if c.bswap == nil {
		return nil
	}
	var errs []error
	if c.bswap.Server != nil {
		errs = append(errs, c.bswap.Server.NotifyNewBlocks(ctx, b))
	}
	if slices.ContainsFunc(c.bswap.Client.GetWantlist(), func(k cid.Cid) bool { return bytes.Equal(k.Hash(), b.Cid().Hash()) }) {
		own, err := blocks.NewBlockWithCid(bytes.Clone(b.RawData()), b.Cid())
		if err != nil {
			return err
		}
		errs = append(errs, c.bswap.Client.NotifyNewBlocks(ctx, own))
	}
	return errors.Join(errs...)
}
