package fastpath

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
)

// Defaults of Options.
const (
	// DefaultProbeTimeout bounds the wait for connected peers to answer
	// whether they hold a root: one small request each.
	DefaultProbeTimeout = 2 * time.Second
	// DefaultStallTimeout is how long a stream may go without delivering
	// a block before its range is taken from that peer.
	DefaultStallTimeout = 10 * time.Second
	// DefaultMaxPeers is how many connected peers are asked for a root.
	DefaultMaxPeers = 16
)

// DefaultJoinGrace is how long the fetch waits, after the first peer that
// holds the root answered, for others to answer before it starts. Peers on
// one network answer within a millisecond or two; later ones still join,
// taking halves of what is left.
const DefaultJoinGrace = 20 * time.Millisecond

const (
	acceptRaw = "application/vnd.ipld.raw"
	acceptCAR = "application/vnd.ipld.car;version=1;order=dfs;dups=n"
)

// Options tune a Fetcher; zero values take the defaults.
type Options struct {
	ProbeTimeout time.Duration
	StallTimeout time.Duration
	MaxPeers     int
	JoinGrace    time.Duration
	// Providers finds peers that announce a root no connected peer
	// holds (the DHT); nil asks connected peers only.
	Providers routing.ContentDiscovery
}

func (o Options) withDefaults() Options {
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = DefaultProbeTimeout
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.MaxPeers <= 0 {
		o.MaxPeers = DefaultMaxPeers
	}
	if o.JoinGrace <= 0 {
		o.JoinGrace = DefaultJoinGrace
	}
	return o
}

// Store keeps a verified block. An error ends the stream that brought the
// block (and, since every peer would meet it, the fetch).
type Store func(ctx context.Context, b blocks.Block) error

// Fetcher fetches files from connected peers as CAR streams.
type Fetcher struct {
	host   host.Host
	client *client
	opts   Options
	stats  fetchCounters // stats.go
	scores *scores       // peers that stalled or sent bad blocks (score.go)
}

// NewFetcher returns a Fetcher that asks the peers h is connected to. It
// learns where a peer serves the gateway when a fetch first needs it, not
// when the peer connects: a node with many peers would otherwise send a
// request to each, and the first probe does not wait for it (see probe).
func NewFetcher(h host.Host, opts Options) (*Fetcher, error) {
	return &Fetcher{host: h, client: newClient(h), opts: opts.withDefaults(), scores: newScores(time.Now)}, nil
}

// Close releases nothing today; jobs are closed by their callers.
func (f *Fetcher) Close() error { return nil }

// probe is one peer's answer to whether it holds the root.
type probe struct {
	p    peer.ID
	data []byte
	err  error
}

// Fetch asks the connected peers that serve the gateway protocol for root,
// stores the root block from the first that has it, and starts fetching
// the rest of the file from every peer that has it, each verified block
// going to store. It returns nil, nil when no connected peer serves root
// (the caller then uses Bitswap). The Job runs until the file is fetched,
// every peer has failed, or ctx ends; Close it when done.
func (f *Fetcher) Fetch(ctx context.Context, root cid.Cid, store Store) (*Job, error) {
	return f.fetch(ctx, root, request{to: -1, whole: true, store: store})
}

// FetchRange is Fetch for the bytes [from, to] of a file (to < 0: to its
// end); blocks outside the range are not fetched, and a root that is not
// a file (a directory) brings nothing but itself.
func (f *Fetcher) FetchRange(ctx context.Context, root cid.Cid, from, to int64, store Store) (*Job, error) {
	return f.fetch(ctx, root, request{from: from, to: to, store: store})
}

// FetchTo is Fetch for a file that goes to w: the file bytes of each
// verified block are written at their offset in the file as the block
// arrives, from every peer at once, before the block is stored. Blocks are
// not kept for readers (Block finds none). With reuse, store keeps no
// reference to a block's bytes once it returns, and the job reads later
// blocks into the same buffers. A root that is not a file brings nothing
// but itself.
func (f *Fetcher) FetchTo(ctx context.Context, root cid.Cid, w io.WriterAt, store Store, reuse bool) (*Job, error) {
	return f.fetch(ctx, root, request{to: -1, store: store, sink: w, reuse: reuse})
}

// request is what a fetch is for: the bytes [from, to] of the file (to <
// 0: to its end), or with whole a DAG that is not a file; where its
// blocks go.
type request struct {
	from, to int64
	whole    bool
	store    Store
	sink     io.WriterAt
	reuse    bool
}

func (f *Fetcher) fetch(ctx context.Context, root cid.Cid, req request) (*Job, error) {
	waitCtx, cancel := context.WithTimeout(ctx, f.opts.ProbeTimeout)
	peers := f.candidates(waitCtx)
	cancel()
	if len(peers) == 0 && f.opts.Providers == nil {
		return nil, nil
	}
	j := newJob(ctx, f, root, req)
	results := make(chan probe, len(peers))
	probeCtx, cancelProbes := context.WithTimeout(j.ctx, f.opts.ProbeTimeout)
	for _, p := range peers {
		j.wg.Go(func() {
			data, err := f.probe(probeCtx, p, root)
			results <- probe{p, data, err}
		})
	}
	var first probe
	answered := 0
	for answered < len(peers) {
		r := <-results
		answered++
		if r.err == nil {
			first = r
			break
		}
		slog.Debug("fast path: peer lacks root", "peer", r.p, "root", root, "err", r.err)
	}
	if first.data == nil && f.opts.Providers != nil {
		first = f.discover(probeCtx, root, peers)
	}
	if first.data == nil {
		cancelProbes()
		j.Close()
		return nil, nil
	}
	// Peers that answer within JoinGrace start with the first, so that
	// the file is split among them from the start.
	holders := []peer.ID{first.p}
	grace := time.NewTimer(f.opts.JoinGrace)
	defer grace.Stop()
collect:
	for answered < len(peers) {
		select {
		case r := <-results:
			answered++
			if r.err == nil {
				holders = append(holders, r.p)
			}
		case <-grace.C:
			break collect
		}
	}
	if err := j.start(first.data, holders); err != nil {
		cancelProbes()
		j.Close()
		return nil, err
	}
	f.stats.fetches.Add(1)
	// Peers that answer later join the fetch.
	j.wg.Go(func() {
		defer cancelProbes()
		for range len(peers) - answered {
			select {
			case r := <-results:
				if r.err == nil {
					j.addPeer(r.p)
				}
			case <-probeCtx.Done():
				return
			}
		}
	})
	return j, nil
}

// candidates are connected peers that offer HTTP over libp2p, at most
// MaxPeers of them, in random order so that load spreads, except that
// peers that stalled or sent bad blocks lately come last. A peer connected
// a moment ago may not have told its protocols yet: identify is waited for
// (until ctx ends), or the first fetch after a connect would always go to
// Bitswap.
func (f *Fetcher) candidates(ctx context.Context) []peer.ID {
	var out []peer.ID
	for _, p := range f.host.Network().Peers() {
		f.identified(ctx, p)
		if f.client.speaksHTTP(p) {
			out = append(out, p)
		}
	}
	rand.Shuffle(len(out), func(i, k int) { out[i], out[k] = out[k], out[i] })
	f.scores.rank(out)
	return out[:min(len(out), f.opts.MaxPeers)]
}

// discover looks for holders of root through Providers when no connected
// peer has it: it connects to the providers it finds, one after the other,
// and probes those that speak HTTP over libp2p, until one has the root or
// ctx ends. The connections it makes serve Bitswap too, should no provider
// speak the fast path.
func (f *Fetcher) discover(ctx context.Context, root cid.Cid, asked []peer.ID) probe {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for ai := range f.opts.Providers.FindProvidersAsync(ctx, root, f.opts.MaxPeers) {
		if ai.ID == f.host.ID() || slices.Contains(asked, ai.ID) {
			continue
		}
		if err := f.host.Connect(ctx, ai); err != nil {
			slog.Debug("fast path: provider unreachable", "peer", ai.ID, "root", root, "err", err)
			continue
		}
		f.identified(ctx, ai.ID)
		if !f.client.speaksHTTP(ai.ID) {
			continue
		}
		data, err := f.probe(ctx, ai.ID, root)
		if err == nil {
			return probe{p: ai.ID, data: data}
		}
		slog.Debug("fast path: provider lacks root", "peer", ai.ID, "root", root, "err", err)
	}
	return probe{}
}

// identified waits until identify has run on a connection to p, or ctx
// ends, so that p's protocols are known.
func (f *Fetcher) identified(ctx context.Context, p peer.ID) {
	ids, ok := f.host.(interface{ IDService() identify.IDService })
	if !ok {
		return
	}
	if conns := f.host.Network().ConnsToPeer(p); len(conns) > 0 {
		select {
		case <-ids.IDService().IdentifyWait(conns[0]):
		case <-ctx.Done():
		}
	}
}

// probe asks p for the root block and checks it.
//
// The first time p is asked, where it serves the gateway is not known
// yet. Rather than ask (one more request), the probe asks at the root,
// where Kubo and Cairn serve it: the answer is hashed against root, so a
// peer serving something else there can only fail the probe, which is
// then asked again at the prefix p gives. For a small file the probe is
// the whole fetch, so this takes a round trip off the time to first byte;
// a larger one learns the prefix before its first CAR request.
func (f *Fetcher) probe(ctx context.Context, p peer.ID, root cid.Cid) ([]byte, error) {
	prefix, known := f.client.knownPrefix(p)
	data, err := f.probeAt(ctx, p, prefix, root)
	if err == nil || known || ctx.Err() != nil {
		return data, err
	}
	learned, lerr := f.client.gatewayPrefix(ctx, p)
	if lerr != nil {
		return nil, lerr
	}
	if learned == prefix {
		return nil, err
	}
	return f.probeAt(ctx, p, learned, root)
}

// probeAt asks p's gateway at prefix for the root block and checks it.
func (f *Fetcher) probeAt(ctx context.Context, p peer.ID, prefix string, root cid.Cid) ([]byte, error) {
	resp, err := f.client.do(ctx, p, prefix+"/ipfs/"+root.String()+"?format=raw", acceptRaw)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("root %s: %s", root, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 2<<20+1))
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", root, err)
	}
	if sum, err := root.Prefix().Sum(data); err != nil || !sum.Equals(root) {
		return nil, fmt.Errorf("root %s: %w", root, trustless.ErrBadBlock)
	}
	return data, nil
}
