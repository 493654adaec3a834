package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/content/replication"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// startReplication runs replication over the node's host and content.
// A peer of a private network takes requests from the whole network.
func (n *Node) startReplication() error {
	cfg := n.cfg.Replication
	psk, err := LoadSwarmKey(n.cfg.RepoDir)
	if err != nil {
		return err
	}
	cfg.Private = psk != nil
	r, err := replication.New(n.host, replicaStore{n.content}, n.ds, cfg, nil)
	if err != nil {
		return fmt.Errorf("start replication: %w", err)
	}
	n.repl = r
	return nil
}

// Replication is the node's replication service.
func (n *Node) Replication() *replication.Service { return n.repl }

// replicaStore is replication's view of content. A replica is pinned
// through a small dag-pb node of its own that links to the root: boxo's
// pinner keeps one pin per CID, and this way a user's pin of the root
// and the replica pin never replace each other, while garbage collection
// keeps both, as it keeps every pin.
type replicaStore struct{ c *content.Content }

var _ replication.Store = replicaStore{}

// replicaData marks a replica's pin node.
var replicaData = []byte("cairn replica v1")

// replicaNode is the pin node of root's replica.
func replicaNode(root cid.Cid) (*merkledag.ProtoNode, error) {
	nd := merkledag.NodeWithData(replicaData)
	if err := nd.SetCidBuilder(cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256}); err != nil {
		return nil, err
	}
	if err := nd.AddRawLink("", &ipld.Link{Cid: root}); err != nil {
		return nil, err
	}
	return nd, nil
}

// replicaPin is the CID of root's replica pin node.
func replicaPin(root cid.Cid) cid.Cid {
	nd, err := replicaNode(root)
	if err != nil {
		return cid.Undef
	}
	return nd.Cid()
}

// Hold fetches root (a file over the fast path, with Bitswap for what it
// leaves; anything else through the pin's own walk), then pins it as a
// replica and announces it.
func (s replicaStore) Hold(ctx context.Context, root cid.Cid) error {
	if err := s.prefetch(ctx, root); err != nil {
		return err
	}
	nd, err := replicaNode(root)
	if err != nil {
		return err
	}
	k, err := s.c.PutBlock(ctx, nd.RawData(), "dag-pb", "sha2-256", 0, false)
	if err != nil {
		return err
	}
	if err := s.c.Pin(ctx, k, true); err != nil {
		return err
	}
	return s.c.Provide(ctx, root)
}

// prefetch reads a file whole, which fetches it over the fast path.
func (s replicaStore) prefetch(ctx context.Context, root cid.Cid) error {
	nd, err := s.c.Node(ctx, root)
	if err != nil {
		return err
	}
	defer nd.Close()
	if f, ok := nd.(files.File); ok {
		if _, err := io.Copy(io.Discard, f); err != nil {
			return fmt.Errorf("fetch %s: %w", root, err)
		}
	}
	return nil
}

// Release unpins root's replica; a user's pin of root stays.
func (s replicaStore) Release(ctx context.Context, root cid.Cid) error {
	err := s.c.Unpin(ctx, replicaPin(root))
	if errors.Is(err, pin.ErrNotPinned) {
		return nil
	}
	return err
}

func (s replicaStore) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	nd, err := s.c.LocalDAG().Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return nd.RawData(), nil
}

func (s replicaStore) Links(ctx context.Context, c cid.Cid) ([]cid.Cid, error) {
	nd, err := s.c.LocalDAG().Get(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, len(nd.Links()))
	for i, l := range nd.Links() {
		out[i] = l.Cid
	}
	return out, nil
}

// Size is the root's cumulative size, as its links record it.
func (s replicaStore) Size(ctx context.Context, root cid.Cid) (uint64, error) {
	nd, err := s.c.LocalDAG().Get(ctx, root)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", root, err)
	}
	return nd.Size()
}

func (s replicaStore) Free(ctx context.Context) (uint64, error) {
	st, err := s.c.RepoStat(ctx)
	if err != nil {
		return 0, err
	}
	if st.StorageMax == 0 {
		return math.MaxUint64, nil
	}
	return st.StorageMax - min(st.StorageMax, st.RepoSize), nil
}
