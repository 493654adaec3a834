package fastpath

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

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

// span is a byte range of the file, [next, to], still to fetch; it is done
// when next > to.
type span struct {
	next, to int64
	// whole is the entire DAG under the root (dag-scope=all), done when
	// next > to as for a range; it is never split nor copied.
	whole bool
	// runs are the streams fetching the span: one, or near the end of
	// the fetch two, the second a copy (endgame).
	runs []*run
}

func (s *span) left() int64 { return s.to - s.next + 1 }
func (s *span) done() bool  { return s.next > s.to }

// run is one stream fetching a span.
type run struct {
	p      peer.ID
	copy   bool // joined a span another stream was fetching
	cancel context.CancelCauseFunc
}

// Job is one file being fetched from peers. Its methods are safe for
// concurrent use.
type Job struct {
	f        *Fetcher
	root     cid.Cid
	from, to int64 // the bytes asked for; to < 0 is the end
	whole    bool  // a root that is not a file is fetched with its DAG
	store    Store
	sink     io.WriterAt // where file bytes go (FetchTo); nil for reads
	pool     *bufPool    // buffers blocks are read into, when reused
	size     int64       // the file's size; -1 until known or not a file
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
	owned   map[peer.ID]int          // spans each peer took as its own
	// unclaimed are the peers in good standing that have not claimed a
	// span yet: penalized peers wait for them (see claim).
	unclaimed map[peer.ID]bool
	workers   int
	started   bool
	over      bool
	err       error
	ended     chan struct{}
	begun     time.Time
}

func newJob(ctx context.Context, f *Fetcher, root cid.Cid, req request) *Job {
	j := &Job{
		f: f, root: root, store: req.store, sink: req.sink, size: -1,
		from: max(req.from, 0), to: req.to, whole: req.whole,
		changed:   make(chan struct{}),
		have:      make(map[cid.Cid]struct{}),
		peers:     make(map[peer.ID]bool),
		got:       make(map[peer.ID]int64),
		owned:     make(map[peer.ID]int),
		ended:     make(chan struct{}),
		unclaimed: make(map[peer.ID]bool),
	}
	j.begun = time.Now()
	j.ctx, j.stop = context.WithCancel(ctx)
	j.mem = make(map[cid.Cid]blocks.Block)
	if req.reuse && req.sink != nil {
		j.pool = newBufPool(writeQueue + 2*DefaultMaxPeers)
	}
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
		if j.sink != nil {
			// No reader: the bytes are in the file and the store.
			j.pool.put(b.RawData())
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
// for the store. A block the job has already is dropped (fresh is
// false): near the end, two peers may send the same one, and the first
// copy verified wins.
func (j *Job) keep(ctx context.Context, b blocks.Block) (fresh bool, err error) {
	j.mu.Lock()
	if _, ok := j.have[b.Cid()]; ok {
		j.mu.Unlock()
		return false, nil
	}
	j.have[b.Cid()] = struct{}{}
	if j.sink == nil {
		j.mem[b.Cid()] = b
	}
	j.broadcastLocked()
	j.mu.Unlock()
	select {
	case j.queue <- b:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
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
	if j.sink != nil && (children || !trustless.HasLinks(j.root, rootData)) {
		// A file: what the root holds itself comes first.
		j.mu.Lock()
		j.size = size
		j.mu.Unlock()
		if err := j.sinkWrite(j.root, rootData, 0); err != nil {
			return err
		}
	}
	b, err := blocks.NewBlockWithCid(rootData, j.root)
	if err != nil {
		return err
	}
	// From memory at once, for the time to first byte; stored behind.
	if _, err := j.keep(j.ctx, b); err != nil {
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
	if !j.f.scores.isPenalized(p) {
		j.unclaimed[p] = true
	}
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
		if !s.done() {
			return
		}
	}
	j.endLocked(nil)
}

// work streams spans from p until none is left or p fails.
func (j *Job) work(p peer.ID) {
	for {
		r, s := j.claim(p)
		if s == nil {
			j.leave(p, nil)
			return
		}
		err := j.stream(r, s)
		j.release(r, s)
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

// claim returns a span for p to stream, and the run that streams it:
//   - the first span nobody streams;
//   - else the second half of the largest span one peer streams, cut on
//     an alignment boundary, while each half keeps stealMin bytes;
//   - else, near the end (every span left is streamed and too small to
//     halve), a copy of the largest span one peer streams: its peer may
//     be stalling, and the first verified copy of each block wins.
//
// A penalized peer takes nothing before every peer in good standing has
// claimed once, and takes no half of another peer's span: it is tried
// last. claim waits while there is nothing to take, since the peers
// streaming may still fail; nil means nothing is left.
func (j *Job) claim(p peer.ID) (*run, *span) {
	bad := j.f.scores.isPenalized(p)
	for {
		j.mu.Lock()
		if j.over {
			j.mu.Unlock()
			return nil, nil
		}
		s, copy, open := j.pickLocked(bad)
		if !open {
			j.mu.Unlock()
			return nil, nil
		}
		if s != nil {
			r := &run{p: p, copy: copy}
			s.runs = append(s.runs, r)
			if !copy {
				j.owned[p]++
			}
			delete(j.unclaimed, p)
			j.broadcastLocked()
			j.mu.Unlock()
			return r, s
		}
		ch := j.changed
		j.mu.Unlock()
		select {
		case <-ch:
		case <-j.ctx.Done():
			return nil, nil
		}
	}
}

// pickLocked is claim's choice: a span and whether it is a copy; nil
// when there is nothing to take now, and open false when no span is left.
func (j *Job) pickLocked(bad bool) (s *span, copy, open bool) {
	var largest *span
	for _, sp := range j.spans {
		if sp.done() {
			continue
		}
		open = true
		if len(sp.runs) == 0 && !(bad && len(j.unclaimed) > 0) {
			return sp, false, true
		}
		if len(sp.runs) == 1 && !sp.whole && (largest == nil || sp.left() > largest.left()) {
			largest = sp
		}
	}
	if largest == nil || (bad && len(j.unclaimed) > 0) {
		return nil, false, open
	}
	if largest.left() >= 2*stealMin {
		if bad {
			return nil, false, open
		}
		mid := (largest.next + largest.left()/2) / alignment * alignment
		if mid > largest.next && mid <= largest.to {
			half := &span{next: mid, to: largest.to}
			largest.to = mid - 1
			j.spans = append(j.spans, half)
			return half, false, true
		}
	}
	if largest.left() >= 2*stealMin {
		return nil, false, open
	}
	return largest, true, true
}

// release takes r off s, done or not, for another claim.
func (j *Job) release(r *run, s *span) {
	j.mu.Lock()
	s.runs = slices.DeleteFunc(s.runs, func(o *run) bool { return o == r })
	j.broadcastLocked()
	j.mu.Unlock()
}

// spanDoneLocked stops the other runs on s, which winner finished. A
// peer whose own span was finished by a copy was overtaken near the end
// (stalling, or slower than the copy's peer): it is tried last next
// time.
func (j *Job) spanDoneLocked(s *span, winner *run) {
	for _, r := range s.runs {
		if r == winner {
			continue
		}
		if r.cancel != nil {
			r.cancel(errSpanDone)
		}
		if winner.copy && !r.copy {
			j.f.scores.add(r.p, penaltySlow)
		}
	}
}

// leave records that p stopped, failed when err is set; the job fails
// when the last peer leaves with work left.
func (j *Job) leave(p peer.ID, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.workers--
	delete(j.unclaimed, p)
	j.broadcastLocked()
	if err != nil {
		j.peers[p] = false
		if j.ctx.Err() == nil {
			j.f.stats.peersDropped.Add(1)
			j.f.scores.add(p, penaltyFor(err))
		}
		slog.Debug("fast path: peer dropped", "peer", p, "root", j.root, "err", err)
	}
	if j.workers > 0 || j.over {
		return
	}
	for _, s := range j.spans {
		if !s.done() {
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

// errSpanDone ends a stream whose span was finished (by it, or by another
// stream on it) or cut short by a peer that took its second half.
var errSpanDone = errors.New("span done")

// errStalled ends a stream that delivered no block for StallTimeout.
var errStalled = errors.New("stalled")

// stream fetches s from r's peer as one CAR response, storing each
// verified block and moving s.next past each leaf, until s is done.
func (j *Job) stream(r *run, s *span) error {
	ctx, cancel := context.WithCancelCause(j.ctx)
	defer cancel(nil)
	j.mu.Lock()
	r.cancel = cancel
	from, to := s.next, s.to
	j.mu.Unlock()
	if from > to {
		// Finished by another stream before this one started.
		return nil
	}
	// A stream that delivers nothing for StallTimeout is dropped.
	stall := time.AfterFunc(j.f.opts.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()

	what := fmt.Sprintf("entity-bytes %d:%d", from, to)
	path := fmt.Sprintf("/ipfs/%s?format=car&dag-scope=entity&entity-bytes=%d:%d", j.root, from, to)
	params := trustless.Params{Scope: "entity", From: from, To: to, HasTo: true}
	if s.whole {
		what = "dag-scope=all"
		path = fmt.Sprintf("/ipfs/%s?format=car&dag-scope=all", j.root)
		params = trustless.Params{Scope: "all"}
	}
	err := j.readStream(ctx, r, s, path, params, stall)
	if err == nil || errors.Is(err, errSpanDone) || errors.Is(context.Cause(ctx), errSpanDone) {
		j.mu.Lock()
		if err == nil {
			// The response covered the whole request, which may have
			// reached past a span cut short meanwhile.
			s.next = max(s.next, min(to, s.to)+1)
		}
		j.mu.Unlock()
		return nil
	}
	if errors.Is(context.Cause(ctx), errStalled) && j.ctx.Err() == nil {
		err = fmt.Errorf("%w for %s: %w", errStalled, j.f.opts.StallTimeout, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// readStream asks r's peer for path and reads the CAR it answers.
func (j *Job) readStream(ctx context.Context, r *run, s *span, path string, params trustless.Params, stall *time.Timer) error {
	resp, err := j.f.client.get(ctx, r.p, path, acceptCAR)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	var alloc func(int) []byte
	if j.pool != nil {
		alloc = j.pool.get
	}
	return trustless.ReadCARInto(resp.Body, j.root, params, alloc, func(b trustless.Block) error {
		// The clock runs while the peer is read, not while a full
		// write queue holds the block: a slow store is not the
		// peer's stall.
		stall.Stop()
		defer stall.Reset(j.f.opts.StallTimeout)
		blk, err := blocks.NewBlockWithCid(b.Data, b.CID)
		if err != nil {
			return err
		}
		if b.Len > 0 && j.sink != nil {
			if err := j.sinkWrite(b.CID, b.Data, b.Off); err != nil {
				return err
			}
		}
		fresh, err := j.keep(ctx, blk)
		if err != nil {
			return err
		}
		if !fresh {
			j.pool.put(b.Data)
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		j.got[r.p] += int64(len(b.Data))
		j.f.stats.received(len(b.Data))
		if b.Len > 0 {
			s.next = max(s.next, b.Off+b.Len)
		}
		if s.done() {
			j.spanDoneLocked(s, r)
			return errSpanDone
		}
		return nil
	})
}
