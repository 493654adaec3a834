package content

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/boxo/pinning/pinner/dspinner"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	ipld "github.com/ipfs/go-ipld-format"
)

// Pin is one pin: a recursive pin keeps the whole DAG under Cid, a direct pin
// only the block itself.
type Pin struct {
	Cid       cid.Cid
	Recursive bool
}

// newPinner loads boxo's datastore pinner, which keeps its pins and indexes
// in ds under /pins. dag is the online DAG service, so that a recursive pin
// fetches what is missing. Under the "pinned" strategy every block the
// pinner walks is queued for announcement as it arrives.
func newPinner(ctx context.Context, ds datastore.Batching, dag ipld.DAGService, strategy string, announce queueProvider) (pin.Pinner, error) {
	var opts []dspinner.Option
	if strategy == StrategyPinned {
		opts = append(opts, dspinner.WithPinnedProvider(announce))
	}
	p, err := dspinner.New(ctx, ds, dag, opts...)
	if err != nil {
		return nil, fmt.Errorf("pinner: %w", err)
	}
	return p, nil
}

// Pin pins root, recursively or directly, first fetching from the network
// whatever of it is missing, then announces root.
func (c *Content) Pin(ctx context.Context, root cid.Cid, recursive bool) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	// One Bitswap session for the whole DAG: peers that had the root are
	// asked first for the rest.
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	nd, err := c.dag.Get(ctx, root)
	if err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	unlock := c.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := c.pins.Pin(ctx, nd, recursive, ""); err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	c.announce(ctx, root)
	return nil
}

// Unpin removes the pin on root, recursive or direct; boxo's pin.ErrNotPinned
// (wrapped) if there is none. The blocks stay until garbage collection.
func (c *Content) Unpin(ctx context.Context, root cid.Cid) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := c.pins.Unpin(ctx, root, true); err != nil {
		return fmt.Errorf("unpin %s: %w", root, err)
	}
	return nil
}

// Pins lists the recursive pins, then the direct ones.
func (c *Content) Pins(ctx context.Context) ([]Pin, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var out []Pin
	for _, kind := range []struct {
		recursive bool
		keys      func(context.Context, bool) <-chan pin.StreamedPin
	}{{true, c.pins.RecursiveKeys}, {false, c.pins.DirectKeys}} {
		for sp := range kind.keys(ctx, false) {
			if sp.Err != nil {
				return nil, fmt.Errorf("list pins: %w", sp.Err)
			}
			out = append(out, Pin{Cid: sp.Pin.Key, Recursive: kind.recursive})
		}
	}
	return out, nil
}
