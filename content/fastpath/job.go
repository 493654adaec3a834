package fastpath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
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
