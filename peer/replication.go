package peer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/content/replication"
	"github.com/cairnnet/cairn/shell"
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

// Block reads a block from the local store only.
func (s replicaStore) Block(ctx context.Context, c cid.Cid) ([]byte, error) {
	nd, err := s.c.LocalDAG().Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return nd.RawData(), nil
}

// Links lists a locally stored block's links.
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

// Free is what content.storage_max still allows.
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

var _ shell.ReplicationBackend = (*backend)(nil)

// DefaultReplication is replication.default.
func (b *backend) DefaultReplication() int { return b.n.cfg.Replication.Default }

// Replicate has factor peers in all keep c.
func (b *backend) Replicate(ctx context.Context, c cid.Cid, factor int) (shell.Replication, error) {
	st, err := b.n.repl.Replicate(ctx, c, factor)
	if err != nil {
		return shell.Replication{}, err
	}
	return shellReplication(st), nil
}

// Unreplicate does nothing for a CID not replicated from here, so that
// `pin rm --replicate` works on any pin.
func (b *backend) Unreplicate(ctx context.Context, c cid.Cid) error {
	err := b.n.repl.Unreplicate(ctx, c)
	if errors.Is(err, replication.ErrNotReplicated) {
		return nil
	}
	return err
}

// Replication is c's status as this node knows it.
func (b *backend) Replication(_ context.Context, c cid.Cid) (shell.Replication, error) {
	st, err := b.n.repl.Status(c)
	if err != nil {
		return shell.Replication{}, err
	}
	return shellReplication(st), nil
}

func shellReplication(st replication.Status) shell.Replication {
	out := shell.Replication{Cid: st.Root.String(), Factor: st.Factor, Live: st.Live, Origin: st.Origin.String(), Replica: st.Replica}
	for _, h := range st.Holders {
		sh := shell.ReplicationHolder{Peer: h.Peer.String(), Live: h.Live, Error: h.Err}
		if !h.LastProved.IsZero() {
			t := h.LastProved.UTC()
			sh.LastProved = &t
		}
		out.Holders = append(out.Holders, sh)
	}
	for _, r := range st.Refusals {
		out.Refusals = append(out.Refusals, shell.ReplicationRefusal{Peer: r.Peer.String(), Reason: r.Reason})
	}
	return out
}

// markReplicas shows pins as replication knows them: a replica's pin node
// as the root it keeps (a replica, recursive), and a pin this node
// replicates with its factor.
func (n *Node) markReplicas(pins []shell.PinStatus) []shell.PinStatus {
	if n.repl == nil {
		return pins
	}
	byCid := make(map[cid.Cid]int, len(pins))
	for i, p := range pins {
		byCid[p.Cid] = i
	}
	var out []shell.PinStatus
	drop := make(map[int]bool)
	for _, st := range n.repl.List() {
		if !st.Replica {
			if i, ok := byCid[st.Root]; ok {
				pins[i].Replication = st.Factor
			}
			continue
		}
		i, ok := byCid[replicaPin(st.Root)]
		if !ok {
			continue
		}
		drop[i] = true
		if j, ok := byCid[st.Root]; ok && pins[j].Type != shell.PinIndirect {
			pins[j].Replica = true
			continue
		} else if ok {
			drop[j] = true
		}
		out = append(out, shell.PinStatus{Cid: st.Root, Type: pins[i].Type, Replica: true})
	}
	for i, p := range pins {
		if !drop[i] {
			out = append(out, p)
		}
	}
	return out
}
