package content

import (
	"context"
	"log/slog"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// Read-ahead bounds. boxo's UnixFS reader asks for only 10 blocks ahead of
// where it reads, so over Bitswap each round trip (at least 20 ms of
// message batching) carries 10 blocks. The read-ahead asks for whole
// batches of leaves, two batches in flight, so the wire stays busy.
const (
	readAheadBatch = 32 // leaves asked for in one Bitswap want
	readAheadDepth = 2  // batches in flight at once
)

// readAhead fetches the blocks of the file DAG under root, in file order,
// into the blockstore, ahead of a reader walking the same DAG. It does not
// hold the blocks: the reader then finds them locally. It stops when ctx
// ends (the read is over) or the DAG has been walked; what it could not
// fetch the reader will ask for itself, so errors are only logged.
func (c *Content) readAhead(ctx context.Context, root ipld.Node) {
	ses := blockservice.NewSession(ctx, c.bserv)
	sem := make(chan struct{}, readAheadDepth)
	batch := make([]cid.Cid, 0, readAheadBatch)
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		keys := batch
		batch = make([]cid.Cid, 0, readAheadBatch)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		go func() {
			defer func() { <-sem }()
			for range ses.GetBlocks(ctx, keys) {
			}
		}()
		return true
	}
	// A subtree met again (a file of repeated chunks, or a hostile DAG
	// whose nodes link twice to the same child: 2^depth paths) was
	// fetched the first time: walk each node once.
	seen := cid.NewSet()
	var walk func(nd ipld.Node) bool
	walk = func(nd ipld.Node) bool {
		for _, l := range nd.Links() {
			if ctx.Err() != nil {
				return false
			}
			if l.Cid.Prefix().Codec == cid.Raw {
				if batch = append(batch, l.Cid); len(batch) == readAheadBatch && !flush() {
					return false
				}
				continue
			}
			if !seen.Visit(l.Cid) {
				continue
			}
			child, err := merkledag.NewSession(ctx, c.dag).Get(ctx, l.Cid)
			if err != nil {
				slog.Debug("read-ahead stopped", "cid", l.Cid, "err", err)
				return false
			}
			if !walk(child) {
				return false
			}
		}
		return true
	}
	if walk(root) {
		flush()
	}
	// Wait for the batches in flight (they end with ctx at the latest), so
	// that they are owned by this call.
	for range readAheadDepth {
		sem <- struct{}{}
	}
}
