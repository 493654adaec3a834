package fastpath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/event"
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

// joinGrace is how long the fetch waits, after the first peer that holds
// the root answered, for others to answer before it starts. Peers on one
// network answer within a millisecond or two; later ones still join.
const joinGrace = 20 * time.Millisecond

// Range sizes. A peer that runs out of work takes the second half of the
// largest range still being fetched, as long as each half keeps stealMin
// bytes; halves are cut on 1 MiB boundaries, which are leaf boundaries for
// both 1 MiB (unixfs-v1-2025) and 256 KiB (Kubo's default) chunking, so no
// leaf is sent twice.
const (
	stealMin  = 2 << 20
	alignment = 1 << 20
)

// Memory a job holds for the read it feeds: verified blocks waiting to be
// written (the write queue), and the last blocks written. A reader that
// keeps up with the network gets every block from memory, so the store's
// write is off its path and its read-back (a disk read and a second hash)
// never happens.
const (
	writeQueue  = 16       // blocks verified, not yet stored
	recentBytes = 32 << 20 // bytes of stored blocks kept for the reader
)

const (
	acceptRaw = "application/vnd.ipld.raw"
	acceptCAR = "application/vnd.ipld.car;version=1;order=dfs;dups=n"
)

// Options tune a Fetcher; zero values take the defaults.
type Options struct {
	ProbeTimeout time.Duration
	StallTimeout time.Duration
	MaxPeers     int
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

	stop context.CancelFunc
	wg   sync.WaitGroup
}

// NewFetcher returns a Fetcher that asks the peers h is connected to.
// Until Close, it learns where each newly identified peer serves the
// gateway, so that a first fetch from that peer saves a round trip.
func NewFetcher(h host.Host, opts Options) (*Fetcher, error) {
	f := &Fetcher{host: h, client: newClient(h), opts: opts.withDefaults()}
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return nil, fmt.Errorf("fastpath: %w", err)
	}
	var ctx context.Context
	ctx, f.stop = context.WithCancel(context.Background())
	f.wg.Go(func() {
		defer sub.Close()
		f.client.learn(ctx, sub.Out(), &f.wg)
	})
	return f, nil
}

// Close stops learning about peers. Jobs are closed by their callers.
func (f *Fetcher) Close() error {
	f.stop()
	f.wg.Wait()
	return nil
}

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
	return f.fetch(ctx, root, 0, -1, true, store)
}

// FetchRange is Fetch for the bytes [from, to] of a file (to < 0: to its
// end); blocks outside the range are not fetched, and a root that is not
// a file (a directory) brings nothing but itself.
func (f *Fetcher) FetchRange(ctx context.Context, root cid.Cid, from, to int64, store Store) (*Job, error) {
	return f.fetch(ctx, root, from, to, false, store)
}

func (f *Fetcher) fetch(ctx context.Context, root cid.Cid, from, to int64, whole bool, store Store) (*Job, error) {
	waitCtx, cancel := context.WithTimeout(ctx, f.opts.ProbeTimeout)
	peers := f.candidates(waitCtx)
	cancel()
	if len(peers) == 0 && f.opts.Providers == nil {
		return nil, nil
	}
	j := newJob(ctx, f, root, store)
	j.from, j.to, j.whole = max(from, 0), to, whole
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
	// Peers that answer within joinGrace start with the first, so that
	// the file is split among them from the start.
	holders := []peer.ID{first.p}
	grace := time.NewTimer(joinGrace)
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
// MaxPeers of them, in random order so that load spreads. A peer connected
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
func (f *Fetcher) probe(ctx context.Context, p peer.ID, root cid.Cid) ([]byte, error) {
	resp, err := f.client.get(ctx, p, "/ipfs/"+root.String()+"?format=raw", acceptRaw)
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

// span is a byte range of the file, [next, to], still to fetch; it is done
// when next > to.
type span struct {
	next, to int64
	busy     bool // a peer is streaming it
	// whole is the entire DAG under the root (dag-scope=all), done when
	// next > to as for a range; it is never split.
	whole bool
}

func (s *span) left() int64 { return s.to - s.next + 1 }

// Job is one file being fetched from peers. Its methods are safe for
// concurrent use.
type Job struct {
	f        *Fetcher
	root     cid.Cid
	from, to int64 // the bytes asked for; to < 0 is the end
	whole    bool  // a root that is not a file is fetched with its DAG
	store    Store
	ctx      context.Context
	stop     context.CancelFunc
	wg       sync.WaitGroup

	// Verified blocks go to the store through queue, written by one
	// goroutine (writer) so that a slow disk does not stall the streams
	// until the queue is full.
	queue      chan blocks.Block
	writer     sync.WaitGroup
	closeQueue sync.Once

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change below
	spans   []*span
	have    map[cid.Cid]struct{}     // verified: in mem or stored
	mem     map[cid.Cid]blocks.Block // queued, or among the recent
	recent  []blocks.Block           // stored, oldest first
	recentN int                      // bytes in recent
	peers   map[peer.ID]bool         // joined; false once failed
	got     map[peer.ID]int64        // verified block bytes from each peer
	workers int
	started bool
	over    bool
	err     error
	ended   chan struct{}
	begun   time.Time
}

func newJob(ctx context.Context, f *Fetcher, root cid.Cid, store Store) *Job {
	j := &Job{
		f: f, root: root, store: store,
		changed: make(chan struct{}),
		have:    make(map[cid.Cid]struct{}),
		peers:   make(map[peer.ID]bool),
		got:     make(map[peer.ID]int64),
		ended:   make(chan struct{}),
	}
	j.begun = time.Now()
	j.ctx, j.stop = context.WithCancel(ctx)
	j.mem = make(map[cid.Cid]blocks.Block)
	j.queue = make(chan blocks.Block, writeQueue)
	j.writer.Go(j.write)
	return j
}

// write stores queued blocks until the queue is closed. It goes on after
// the job is cancelled: the blocks are verified, and the queue is short.
func (j *Job) write() {
	ctx := context.WithoutCancel(j.ctx)
	failed := false
	for b := range j.queue {
		if failed {
			continue
		}
		if err := j.store(ctx, b); err != nil {
			// Every later block would fail the same way (a full
			// store, a broken disk): the job ends, the read falls
			// back to Bitswap, which meets the same error.
			failed = true
			j.end(fmt.Errorf("store %s: %w", b.Cid(), err))
			continue
		}
		j.mu.Lock()
		j.recent = append(j.recent, b)
		j.recentN += len(b.RawData())
		for j.recentN > recentBytes && len(j.recent) > 1 {
			old := j.recent[0]
			j.recent = j.recent[1:]
			j.recentN -= len(old.RawData())
			delete(j.mem, old.Cid())
		}
		j.mu.Unlock()
	}
}

// keep makes a verified block available to readers at once and queues it
// for the store.
func (j *Job) keep(ctx context.Context, b blocks.Block) error {
	j.mu.Lock()
	j.have[b.Cid()] = struct{}{}
	j.mem[b.Cid()] = b
	j.broadcastLocked()
	j.mu.Unlock()
	select {
	case j.queue <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Block returns c from the job's memory: verified, and queued for the
// store or stored a moment ago.
func (j *Job) Block(c cid.Cid) (blocks.Block, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.mem[c]
	return b, ok
}

// start stores the root block and plans the fetch of the rest from
// holders.
func (j *Job) start(rootData []byte, holders []peer.ID) error {
	size, children, err := trustless.FileSize(j.root, rootData)
	if err != nil {
		return err
	}
	b, err := blocks.NewBlockWithCid(rootData, j.root)
	if err != nil {
		return err
	}
	// From memory at once, for the time to first byte; stored behind.
	if err := j.keep(j.ctx, b); err != nil {
		return fmt.Errorf("root %s: %w", j.root, err)
	}
	j.mu.Lock()
	j.started = true
	switch {
	case children && size > 0:
		to := size - 1
		if j.to >= 0 {
			to = min(j.to, to)
		}
		if j.from <= to {
			j.spans = []*span{{next: j.from, to: to}}
		}
	case !children && j.whole && trustless.HasLinks(j.root, rootData):
		// A directory (or another DAG that is not one file): fetched
		// whole, from one peer at a time, since it has no byte ranges
		// to split it by.
		j.spans = []*span{{whole: true}}
	}
	j.mu.Unlock()
	for _, p := range holders {
		j.addPeer(p)
	}
	j.finishIfDone()
	return nil
}

// addPeer starts streaming from p, unless it already joined.
func (j *Job) addPeer(p peer.ID) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, ok := j.peers[p]; ok || j.over {
		return
	}
	j.peers[p] = true
	j.workers++
	j.wg.Go(func() { j.work(p) })
}

// Ended is closed when the job is over: the file fetched, every peer
// failed, or the job closed.
func (j *Job) Ended() <-chan struct{} { return j.ended }

// Err is why the job ended without the whole file, nil while it runs or
// after it fetched everything.
func (j *Job) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err
}

// Received returns the bytes of verified blocks each peer sent (the root
// block aside).
func (j *Job) Received() map[peer.ID]int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[peer.ID]int64, len(j.got))
	for p, n := range j.got {
		out[p] = n
	}
	return out
}

// Wait blocks until the job has stored c (true), or is over without it, or
// ctx ends (false).
func (j *Job) Wait(ctx context.Context, c cid.Cid) bool {
	for {
		j.mu.Lock()
		_, ok := j.have[c]
		over, ch := j.over, j.changed
		j.mu.Unlock()
		if ok {
			return true
		}
		if over {
			return false
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

// Close stops the job and waits for its streams to end and the blocks
// they verified to be stored. Safe to call twice.
func (j *Job) Close() {
	j.stop()
	j.wg.Wait()
	j.closeQueue.Do(func() { close(j.queue) })
	j.writer.Wait()
	j.end(context.Canceled)
}

// end marks the job over (once) with err.
func (j *Job) end(err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.endLocked(err)
}

func (j *Job) endLocked(err error) {
	if j.over {
		return
	}
	j.over, j.err = true, err
	switch {
	case err == nil:
		j.f.stats.filesFetched.Add(1)
	case j.ctx.Err() == nil:
		// Ended early while the read still wants the file.
		j.f.stats.fellBack.Add(1)
	}
	if j.started {
		var got int64
		for _, n := range j.got {
			got += n
		}
		slog.Debug("fast path: fetch over", "root", j.root, "peers", len(j.peers), "bytes", got,
			"took", time.Since(j.begun), "err", err)
	}
	close(j.ended)
	j.broadcastLocked()
	j.stop()
}

func (j *Job) broadcastLocked() {
	close(j.changed)
	j.changed = make(chan struct{})
}

// finishIfDone ends the job when no span is left.
func (j *Job) finishIfDone() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, s := range j.spans {
		if s.next <= s.to {
			return
		}
	}
	j.endLocked(nil)
}

// work streams spans from p until none is left or p fails.
func (j *Job) work(p peer.ID) {
	for {
		s := j.claim()
		if s == nil {
			j.leave(p, nil)
			return
		}
		err := j.stream(p, s)
		j.release(s)
		if err != nil {
			if j.ctx.Err() != nil {
				// The job was stopped (its read is over): not the
				// peer's failure.
				err = nil
			}
			j.leave(p, err)
			return
		}
		j.finishIfDone()
	}
}

// claim returns a span for a peer to stream: the first one nobody is
// streaming, else the second half of the largest one being streamed.
// It waits while the only spans left are busy and too small to halve,
// since their peers may still fail; nil means nothing is left.
func (j *Job) claim() *span {
	for {
		j.mu.Lock()
		if j.over {
			j.mu.Unlock()
			return nil
		}
		var largest *span
		for _, s := range j.spans {
			if s.next > s.to {
				continue
			}
			if !s.busy {
				s.busy = true
				j.mu.Unlock()
				return s
			}
			if largest == nil || s.left() > largest.left() {
				largest = s
			}
		}
		if largest == nil {
			j.mu.Unlock()
			return nil
		}
		if largest.left() >= 2*stealMin {
			mid := (largest.next + largest.left()/2) / alignment * alignment
			if mid > largest.next && mid <= largest.to {
				half := &span{next: mid, to: largest.to, busy: true}
				largest.to = mid - 1
				j.spans = append(j.spans, half)
				j.mu.Unlock()
				return half
			}
		}
		ch := j.changed
		j.mu.Unlock()
		select {
		case <-ch:
		case <-j.ctx.Done():
			return nil
		}
	}
}

// release hands s back, done or not, for another claim.
func (j *Job) release(s *span) {
	j.mu.Lock()
	s.busy = false
	j.broadcastLocked()
	j.mu.Unlock()
}

// leave records that p stopped, failed when err is set; the job fails
// when the last peer leaves with work left.
func (j *Job) leave(p peer.ID, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.workers--
	if err != nil {
		j.peers[p] = false
		if j.ctx.Err() == nil {
			j.f.stats.peersDropped.Add(1)
		}
		slog.Debug("fast path: peer dropped", "peer", p, "root", j.root, "err", err)
	}
	if j.workers > 0 || j.over {
		return
	}
	for _, s := range j.spans {
		if s.next <= s.to {
			if err == nil {
				err = errors.New("no peer left")
			}
			if j.ctx.Err() != nil {
				err = j.ctx.Err()
			}
			j.endLocked(fmt.Errorf("fast path %s: %w", j.root, err))
			return
		}
	}
}

// errSpanDone ends a stream whose span was finished or cut short by a
// peer that took its second half.
var errSpanDone = errors.New("span done")

// stream fetches s from p as one CAR response, storing each verified
// block and moving s.next past each leaf, until s is done.
func (j *Job) stream(p peer.ID, s *span) error {
	ctx, cancel := context.WithCancel(j.ctx)
	defer cancel()
	j.mu.Lock()
	from, to := s.next, s.to
	j.mu.Unlock()
	// A stream that delivers nothing for StallTimeout is dropped.
	stall := time.AfterFunc(j.f.opts.StallTimeout, cancel)
	defer stall.Stop()

	what := fmt.Sprintf("entity-bytes %d:%d", from, to)
	path := fmt.Sprintf("/ipfs/%s?format=car&dag-scope=entity&entity-bytes=%d:%d", j.root, from, to)
	params := trustless.Params{Scope: "entity", From: from, To: to, HasTo: true}
	if s.whole {
		what = "dag-scope=all"
		path = fmt.Sprintf("/ipfs/%s?format=car&dag-scope=all", j.root)
		params = trustless.Params{Scope: "all"}
	}
	resp, err := j.f.client.get(ctx, p, path, acceptCAR)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", what, resp.Status)
	}
	err = trustless.ReadCAR(resp.Body, j.root, params, func(b trustless.Block) error {
		stall.Reset(j.f.opts.StallTimeout)
		blk, err := blocks.NewBlockWithCid(b.Data, b.CID)
		if err != nil {
			return err
		}
		if err := j.keep(ctx, blk); err != nil {
			return err
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		j.got[p] += int64(len(b.Data))
		j.f.stats.received(len(b.Data))
		if b.Len > 0 {
			s.next = max(s.next, b.Off+b.Len)
		}
		if s.next > s.to {
			return errSpanDone
		}
		return nil
	})
	if err == nil || errors.Is(err, errSpanDone) {
		j.mu.Lock()
		// The response covered the whole request, which may have
		// reached past a span cut short meanwhile.
		s.next = max(s.next, min(to, s.to)+1)
		j.mu.Unlock()
		return nil
	}
	if ctx.Err() != nil && j.ctx.Err() == nil {
		err = fmt.Errorf("stalled for %s: %w", j.f.opts.StallTimeout, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
