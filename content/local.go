package content

import (
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/ipld/merkledag"
	ipld "github.com/ipfs/go-ipld-format"
)

// LocalDAG reads the DAG from this node's store alone, never from peers:
// a block not stored is ipld.ErrNotFound. What it reads was verified when
// it was stored and is checksummed at rest. Calls on it are not tracked
// by Close: the caller stops using it before closing the Content.
func (c *Content) LocalDAG() ipld.DAGService {
	return merkledag.NewDAGService(blockservice.New(c.bstore, nil))
}
