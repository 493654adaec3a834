package peer

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
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

var (
	_ shell.Backend      = (*backend)(nil)
	_ shell.RangeBackend = (*backend)(nil)
)

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
		Reachability: Reachability(h),
	}, nil
}

func protocolStrings(ps []protocol.ID) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func (b *backend) AddNode(ctx context.Context, nd files.Node, opts shell.AddOptions, events shell.AddEvents) (shell.AddResult, error) {
	iopts := content.ImportOptions{
		ChunkSize:  opts.ChunkSize,
		Chunker:    opts.Chunker,
		CIDVersion: opts.CIDVersion,
		RawLeaves:  opts.RawLeaves,
		Pin:        opts.Pin,
		OnlyHash:   opts.OnlyHash,
		Progress:   events.Progress,
	}
	if events.Added != nil {
		iopts.Added = func(a content.Added) error {
			return events.Added(a.Path, shell.AddResult{Cid: a.Cid, Size: a.Size}, a.Dir)
		}
	}
	res, err := b.n.content.ImportNode(ctx, nd, iopts)
	if err != nil {
		return shell.AddResult{}, err
	}
	return shell.AddResult{Cid: res.Cid, Size: res.Size}, nil
}

func (b *backend) List(ctx context.Context, c cid.Cid) ([]shell.DirEntry, bool, error) {
	entries, isDir, err := b.n.content.List(ctx, c)
	if err != nil || !isDir {
		return nil, isDir, err
	}
	out := make([]shell.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = shell.DirEntry{Name: e.Name, Cid: e.Cid, Size: e.Size, Type: entryTypes[e.Type], Target: e.Target}
	}
	return out, true, nil
}

// entryTypes maps content's entry types to the numbers ls reports.
var entryTypes = map[content.EntryType]shell.EntryType{
	content.TypeUnknown:   shell.TypeRaw,
	content.TypeFile:      shell.TypeFile,
	content.TypeDirectory: shell.TypeDirectory,
	content.TypeSymlink:   shell.TypeSymlink,
}

func (b *backend) Node(ctx context.Context, c cid.Cid) (files.Node, error) {
	return b.NodeRange(ctx, c, 0, -1)
}

// NodeRange opens c and tracks its read as a transfer (transfers.go).
func (b *backend) NodeRange(ctx context.Context, c cid.Cid, offset, length int64) (files.Node, error) {
	held := b.n.held(ctx, c)
	nd, err := b.n.content.NodeRange(ctx, c, offset, length)
	if err != nil {
		return nil, err
	}
	return b.n.transfers.track(nd, c, !held, length), nil
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

var _ shell.ProvideStatsBackend = (*backend)(nil)

func (b *backend) ProvideStats() (shell.ProvideStats, error) {
	st, err := b.n.content.ProvideStats()
	if err != nil {
		return shell.ProvideStats{}, err
	}
	out := shell.ProvideStats{
		TotalProvides:          st.TotalReprovides,
		AvgProvideDuration:     st.AvgReprovideDuration,
		LastReprovideDuration:  st.LastReprovideDuration,
		LastReprovideBatchSize: st.LastReprovideBatchSize,
		ReprovideInterval:      st.ReprovideInterval,
		Strategy:               st.Strategy,
	}
	if !st.LastRun.IsZero() {
		out.LastRun = &st.LastRun
	}
	return out, nil
}

// BitswapStats reports content's Bitswap counters in Kubo's shape; an
// offline node's error wraps shell.ErrOffline.
func (b *backend) BitswapStats() (shell.BitswapStats, error) {
	st, err := b.n.content.BitswapStats()
	if errors.Is(err, content.ErrOffline) {
		return shell.BitswapStats{}, fmt.Errorf("%w: %w", shell.ErrOffline, err)
	}
	if err != nil {
		return shell.BitswapStats{}, err
	}
	return shell.BitswapStats{
		Wantlist:         st.Wantlist,
		Peers:            st.Peers,
		BlocksReceived:   st.BlocksReceived,
		DataReceived:     st.DataReceived,
		DupBlksReceived:  st.DupBlksReceived,
		DupDataReceived:  st.DupDataReceived,
		MessagesReceived: st.MessagesReceived,
		BlocksSent:       st.BlocksSent,
		DataSent:         st.DataSent,
	}, nil
}

// FastPathStats reports content's fast-path counters.
func (b *backend) FastPathStats() shell.FastPathStats {
	st := b.n.content.FastPathStats()
	return shell.FastPathStats{
		Fetches:        st.Fetches,
		FilesFetched:   st.FilesFetched,
		FellBack:       st.FellBack,
		BlocksReceived: st.BlocksReceived,
		BytesReceived:  st.BytesReceived,
		PeersDropped:   st.PeersDropped,
		BytesServed:    st.BytesServed,
	}
}

// Pins, GC, repo stat and verify, and CAR import and export: the shell's
// PinBackend, RepoBackend and DAGBackend over content.

func (b *backend) Pin(ctx context.Context, c cid.Cid, recursive bool) error {
	return b.n.content.Pin(ctx, c, recursive)
}

func (b *backend) Unpin(ctx context.Context, c cid.Cid) error {
	return b.n.content.Unpin(ctx, c)
}

func (b *backend) ListPins(ctx context.Context, types ...string) ([]shell.PinStatus, error) {
	pins, err := b.n.content.ListPins(ctx, types...)
	return b.n.markReplicas(pinStatuses(pins)), err
}

func (b *backend) CheckPins(ctx context.Context, cids ...cid.Cid) ([]shell.PinStatus, error) {
	pins, err := b.n.content.CheckPins(ctx, cids...)
	return b.n.markReplicas(pinStatuses(pins)), err
}

func pinStatuses(pins []content.PinStatus) []shell.PinStatus {
	out := make([]shell.PinStatus, len(pins))
	for i, p := range pins {
		out[i] = shell.PinStatus{Cid: p.Cid, Type: p.Type}
	}
	return out
}

func (b *backend) GC(ctx context.Context, removed func(cid.Cid) error, skipped func(cid.Cid, error) error) error {
	before, _ := b.n.content.RepoStat(ctx)
	n, err := b.n.content.GC(ctx, content.GCEvents{Removed: removed, Skipped: skipped})
	after, _ := b.n.content.RepoStat(ctx)
	b.n.metrics.gcRan(n, before.RepoSize, after.RepoSize)
	return err
}

func (b *backend) RepoStat(ctx context.Context) (shell.RepoStat, error) {
	st, err := b.n.content.RepoStat(ctx)
	if err != nil {
		return shell.RepoStat{}, err
	}
	return shell.RepoStat{NumObjects: st.NumObjects, RepoSize: st.RepoSize, StorageMax: st.StorageMax, RepoPath: b.n.cfg.RepoDir}, nil
}

func (b *backend) Verify(ctx context.Context, repair bool, bad func(shell.DamagedBlock) error) (int, error) {
	res, err := b.n.content.Verify(ctx, repair, func(d content.DamagedBlock) error {
		b.n.metrics.verifyFailures.Inc()
		if bad == nil {
			return nil
		}
		out := shell.DamagedBlock{Cid: d.Cid, Reason: d.Err.Error(), Repaired: d.Repaired}
		if d.RepairErr != nil {
			out.RepairError = d.RepairErr.Error()
		}
		return bad(out)
	})
	return res.Checked, err
}

func (b *backend) ExportDAG(ctx context.Context, root cid.Cid, w io.Writer) error {
	t := b.n.transfers.start(root, "export", -1, !b.n.held(ctx, root))
	err := b.n.content.ExportCAR(ctx, root, countingWriter{w: w, n: &t.done})
	b.n.transfers.end(t, outcome(err))
	return err
}

func (b *backend) ImportDAG(ctx context.Context, r io.Reader, pinRoots bool) (shell.DAGImport, error) {
	res, err := b.n.content.ImportCAR(ctx, r, pinRoots)
	if err != nil {
		return shell.DAGImport{}, err
	}
	out := shell.DAGImport{Blocks: res.Blocks, Bytes: res.Bytes}
	for _, root := range res.Roots {
		r := shell.DAGRoot{Cid: root.Cid}
		if root.PinErr != nil {
			r.PinErrorMsg = root.PinErr.Error()
		}
		out.Roots = append(out.Roots, r)
	}
	return out, nil
}

// The config file, shutdown, and the rest of Kubo's swarm, routing, block
// and pin commands.
var (
	_ shell.ConfigBackend      = (*backend)(nil)
	_ shell.ShutdownBackend    = (*backend)(nil)
	_ shell.DisconnectBackend  = (*backend)(nil)
	_ shell.PeerRoutingBackend = (*backend)(nil)
	_ shell.BlockRmBackend     = (*backend)(nil)
	_ shell.PinVerifyBackend   = (*backend)(nil)
)

// errNoConfigFile is the config commands' answer on a node without a repo.
var errNoConfigFile = errors.New("this node runs without a repo: there is no config file")

// ConfigValues reads the repo's config.yaml as it is now, which may differ
// from what the node started with.
func (b *backend) ConfigValues(context.Context) (map[string]any, error) {
	if b.n.cfg.RepoDir == "" {
		return nil, errNoConfigFile
	}
	cfg, err := LoadConfig(b.n.cfg.RepoDir)
	if err != nil {
		return nil, err
	}
	return ConfigValues(cfg)
}

// SetConfig edits the repo's config.yaml; the node applies it at its next
// start.
func (b *backend) SetConfig(_ context.Context, settings ...shell.ConfigSetting) (map[string]any, error) {
	if b.n.cfg.RepoDir == "" {
		return nil, errNoConfigFile
	}
	sets := make([]ConfigSetting, len(settings))
	for i, s := range settings {
		sets[i] = ConfigSetting(s)
	}
	cfg, err := SetConfig(b.n.cfg.RepoDir, sets...)
	if err != nil {
		return nil, err
	}
	return ConfigValues(cfg)
}

// ApplyProfiles applies profiles to the repo's config.yaml; a dry run
// computes the result without writing it.
func (b *backend) ApplyProfiles(ctx context.Context, names []string, dryRun bool) (before, after map[string]any, err error) {
	if before, err = b.ConfigValues(ctx); err != nil {
		return nil, nil, err
	}
	var cfg Config
	if dryRun {
		cfg, err = DryRunProfiles(b.n.cfg.RepoDir, names...)
	} else {
		cfg, err = ApplyProfilesToRepo(b.n.cfg.RepoDir, names...)
	}
	if err != nil {
		return nil, nil, err
	}
	after, err = ConfigValues(cfg)
	return before, after, err
}

// Shutdown tells the daemon to stop the node (see ShutdownRequested).
func (b *backend) Shutdown() error {
	b.n.requestShutdown()
	return nil
}

// Disconnect closes the connections to addr's peer: all of them, or, when
// addr has a transport part, those to that address.
func (b *backend) Disconnect(_ context.Context, addr ma.Multiaddr) error {
	transport, id := libp2ppeer.SplitAddr(addr)
	if id == "" {
		return fmt.Errorf("%s: address must end in /p2p/<peer-id>", addr)
	}
	nw := b.n.host.Network()
	if transport == nil {
		if nw.Connectedness(id) != network.Connected {
			return errors.New("not connected")
		}
		return nw.ClosePeer(id)
	}
	closed := false
	for _, c := range nw.ConnsToPeer(id) {
		if c.RemoteMultiaddr().Equal(transport) {
			closed = true
			if err := c.Close(); err != nil {
				return err
			}
		}
	}
	if !closed {
		return fmt.Errorf("not connected at %s", transport)
	}
	return nil
}

// FindPeer returns the addresses the peerstore has for id, else asks the
// DHT.
func (b *backend) FindPeer(ctx context.Context, id libp2ppeer.ID) (libp2ppeer.AddrInfo, error) {
	if addrs := b.n.host.Peerstore().Addrs(id); len(addrs) > 0 {
		return libp2ppeer.AddrInfo{ID: id, Addrs: addrs}, nil
	}
	return b.n.routing.FindPeer(ctx, id)
}

// Provide announces c (with recursive, every block of its DAG) to the DHT
// now, refusing blocks the store does not hold: announcing them would
// send peers to a node that cannot serve them.
func (b *backend) Provide(ctx context.Context, c cid.Cid, recursive bool) error {
	keys, err := b.localDAG(ctx, c, recursive)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.n.routing.Provide(ctx, k, true); err != nil {
			return err
		}
	}
	return nil
}

// localDAG lists c and, with recursive, every block under it, from the
// local store only.
func (b *backend) localDAG(ctx context.Context, c cid.Cid, recursive bool) ([]cid.Cid, error) {
	bs := b.n.content.BlockService().Blockstore()
	has, err := bs.Has(ctx, c)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, fmt.Errorf("block %s not found locally, cannot provide", c)
	}
	if !recursive {
		return []cid.Cid{c}, nil
	}
	dag := merkledag.NewDAGService(blockservice.New(bs, nil))
	var keys []cid.Cid
	seen := cid.NewSet()
	err = merkledag.Walk(ctx, merkledag.GetLinksWithDAG(dag), c, func(k cid.Cid) bool {
		if !seen.Visit(k) {
			return false
		}
		keys = append(keys, k)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("provide %s: walking its DAG locally: %w", c, err)
	}
	return keys, nil
}

// RemoveBlocks deletes blocks from the store, as block rm asks.
func (b *backend) RemoveBlocks(ctx context.Context, cids []cid.Cid, each func(cid.Cid, error) error) error {
	return b.n.content.RemoveBlocks(ctx, cids, each)
}

// VerifyPins checks every recursive pin's DAG in the local store.
func (b *backend) VerifyPins(ctx context.Context, each func(shell.PinCheck) error) error {
	return b.n.content.VerifyPins(ctx, func(p content.PinCheck) error {
		out := shell.PinCheck{Cid: p.Cid}
		for _, bad := range p.Bad {
			out.Bad = append(out.Bad, shell.BadBlock{Cid: bad.Cid, Err: bad.Err.Error()})
		}
		return each(out)
	})
}

var _ shell.BootstrapBackend = (*backend)(nil)

// BootstrapPeers lists discovery.bootstrap from the repo's config.yaml.
func (b *backend) BootstrapPeers(context.Context) ([]string, error) {
	if b.n.cfg.RepoDir == "" {
		return nil, errNoConfigFile
	}
	return BootstrapPeers(b.n.cfg.RepoDir)
}

// AddBootstrapPeers adds to discovery.bootstrap in the repo's config.yaml.
func (b *backend) AddBootstrapPeers(_ context.Context, addrs []ma.Multiaddr) ([]string, error) {
	if b.n.cfg.RepoDir == "" {
		return nil, errNoConfigFile
	}
	return AddBootstrapPeers(b.n.cfg.RepoDir, addrs)
}

// RemoveBootstrapPeers removes from discovery.bootstrap in the repo's
// config.yaml.
func (b *backend) RemoveBootstrapPeers(_ context.Context, addrs []ma.Multiaddr, all bool) ([]string, error) {
	if b.n.cfg.RepoDir == "" {
		return nil, errNoConfigFile
	}
	return RemoveBootstrapPeers(b.n.cfg.RepoDir, addrs, all)
}
