package peer

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// backend is the shell's view of the node.
type backend struct{ n *Node }

var _ shell.Backend = (*backend)(nil)

func (b *backend) Identity(context.Context) (shell.Identity, error) {
	h := b.n.host
	pub, err := crypto.MarshalPublicKey(h.Peerstore().PubKey(h.ID()))
	if err != nil {
		return shell.Identity{}, fmt.Errorf("encode public key: %w", err)
	}
	return shell.Identity{
		ID:           h.ID(),
		PublicKey:    base64.StdEncoding.EncodeToString(pub),
		Addresses:    h.Addrs(),
		AgentVersion: AgentVersion,
		Protocols:    protocolStrings(h.Mux().Protocols()),
	}, nil
}

func protocolStrings(ps []protocol.ID) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func (b *backend) Add(ctx context.Context, r io.Reader, opts shell.AddOptions) (shell.AddResult, error) {
	res, err := b.n.content.Import(ctx, r, content.ImportOptions{
		ChunkSize:  opts.ChunkSize,
		CIDVersion: opts.CIDVersion,
		RawLeaves:  opts.RawLeaves,
		Pin:        opts.Pin,
		OnlyHash:   opts.OnlyHash,
	})
	if err != nil {
		return shell.AddResult{}, err
	}
	return shell.AddResult{Cid: res.Cid, Size: res.Size}, nil
}

func (b *backend) Node(ctx context.Context, c cid.Cid) (files.Node, error) {
	return b.n.content.Node(ctx, c)
}

func (b *backend) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return b.n.content.GetBlock(ctx, c)
}

func (b *backend) PutBlock(ctx context.Context, data []byte, opts shell.BlockPutOptions) (cid.Cid, error) {
	return b.n.content.PutBlock(ctx, data, opts.Codec, opts.MhType, opts.MhLen, opts.Pin)
}

func (b *backend) Peers(context.Context) ([]shell.PeerInfo, error) {
	h := b.n.host
	conns := h.Network().Conns()
	out := make([]shell.PeerInfo, 0, len(conns))
	for _, c := range conns {
		dir := "outbound"
		if c.Stat().Direction == network.DirInbound {
			dir = "inbound"
		}
		out = append(out, shell.PeerInfo{
			ID:        c.RemotePeer(),
			Addr:      c.RemoteMultiaddr(),
			Direction: dir,
			Latency:   h.Peerstore().LatencyEWMA(c.RemotePeer()),
		})
	}
	return out, nil
}

func (b *backend) Connect(ctx context.Context, addr ma.Multiaddr) (libp2ppeer.ID, error) {
	pi, err := libp2ppeer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return "", fmt.Errorf("connect %s: address must end in /p2p/<peer-id>: %w", addr, err)
	}
	if err := b.n.host.Connect(ctx, *pi); err != nil {
		return "", fmt.Errorf("connect %s: %w", pi.ID, err)
	}
	return pi.ID, nil
}

func (b *backend) FindProviders(ctx context.Context, c cid.Cid, limit int) (<-chan libp2ppeer.AddrInfo, error) {
	return b.n.routing.FindProvidersAsync(ctx, c, limit), nil
}
