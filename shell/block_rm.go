package shell

import (
	"context"
	"net/http"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// BlockRmBackend is a node that can delete blocks from its store.
type BlockRmBackend interface {
	// RemoveBlocks deletes each block, calling each with it and nil, or
	// with why it was kept (pinned, or not held: ipld's not-found error).
	RemoveBlocks(ctx context.Context, cids []cid.Cid, each func(cid.Cid, error) error) error
}

// blockRmResult is one line of Kubo's block/rm output.
type blockRmResult struct {
	Hash  string
	Error string `json:",omitempty"`
}

// blockRm removes blocks, one result a block as Kubo streams them; with
// force, blocks not held are passed over in silence.
func (s *shell) blockRm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	force, err := boolParam(q, "force", false)
	if err != nil {
		return err
	}
	quiet, err := boolParam(q, "quiet", false)
	if err != nil {
		return err
	}
	rb, ok := s.backend.(BlockRmBackend)
	if !ok {
		return errorf(kindInternal, "this node cannot remove blocks")
	}
	out := &jsonStream{w: w}
	err = rb.RemoveBlocks(r.Context(), cids, func(c cid.Cid, err error) error {
		switch {
		case err == nil && quiet:
			return nil
		case err == nil:
			return out.emit(blockRmResult{Hash: c.String()})
		case force && ipld.IsNotFound(err):
			return nil
		}
		return out.emit(blockRmResult{Hash: c.String(), Error: err.Error()})
	})
	if err != nil {
		return err
	}
	out.start()
	return nil
}
