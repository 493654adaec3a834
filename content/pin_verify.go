package content

import (
	"context"
	"fmt"

	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// PinCheck is how one recursive pin fared in VerifyPins.
type PinCheck struct {
	Cid cid.Cid
	// Bad lists the blocks under the pin that are missing, damaged or
	// undecodable, with why; empty when the whole DAG is sound.
	Bad []BadBlock
}

// BadBlock is a block a pin needs that the store cannot give.
type BadBlock struct {
	Cid cid.Cid
	Err error
}

// VerifyPins checks that every recursive pin's DAG is whole in the local
// store, as Kubo's pin verify does: each block present, its bytes hashing
// to its CID (the store checks on every read), its links readable. Nothing
// is fetched. each gets one PinCheck per pin; its error stops the walk.
func (c *Content) VerifyPins(ctx context.Context, each func(PinCheck) error) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	roots, err := c.pinRoots(ctx)
	if err != nil {
		return fmt.Errorf("pin verify: %w", err)
	}
	dag := merkledag.NewDAGService(blockservice.New(c.bstore, nil))
	for _, root := range roots.recursive {
		bad, err := checkDAG(ctx, dag, root)
		if err != nil {
			return fmt.Errorf("pin verify: %w", err)
		}
		if err := each(PinCheck{Cid: root, Bad: bad}); err != nil {
			return err
		}
	}
	return nil
}

// checkDAG returns the bad blocks under root (root included), reading
// each block once, depth-first with a stack so that a deep DAG cannot
// exhaust the goroutine's stack. It fails only when ctx ends.
func checkDAG(ctx context.Context, dag ipld.DAGService, root cid.Cid) ([]BadBlock, error) {
	var bad []BadBlock
	stack := []cid.Cid{root}
	seen := map[string]struct{}{}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[string(k.Hash())]; ok {
			continue
		}
		seen[string(k.Hash())] = struct{}{}
		nd, err := dag.Get(ctx, k)
		if err != nil {
			bad = append(bad, BadBlock{Cid: k, Err: err})
			continue
		}
		for _, l := range nd.Links() {
			stack = append(stack, l.Cid)
		}
	}
	return bad, nil
}
