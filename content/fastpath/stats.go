package fastpath

import (
	"net/http"
	"sync/atomic"
	"time"
)

// Stats counts the fast path's work since the node started. The counters
// only grow; each is read on its own, so a snapshot taken while fetches
// run may be a block or two apart between fields.
type Stats struct {
	// Fetches counts jobs started: a connected peer held the root.
	Fetches uint64
	// FilesFetched counts jobs that fetched all they were asked for: a
	// whole file, or the range of it a read wanted.
	FilesFetched uint64
	// FellBack counts jobs that ended early while their read still
	// wanted the file (every peer failed, or the store refused a block):
	// Bitswap fetches what they left. Jobs the reader closed first count
	// in neither this nor FilesFetched.
	FellBack uint64
	// BlocksReceived and BytesReceived count the verified blocks peers
	// sent in CAR streams. Each stream starts at the root, so the root
	// and the inner nodes above a range come once per stream; the probes
	// for the root are not counted.
	BlocksReceived uint64
	BytesReceived  uint64
	// PeersDropped counts peers taken off a job because their stream
	// failed or stalled while the job still ran.
	PeersDropped uint64
	// BytesServed counts the response bytes the Server sent to peers
	// (blocks and CARs, headers aside); Fetcher.Stats leaves it zero.
	BytesServed uint64
}

// fetchCounters are a Fetcher's counters, updated by its jobs.
type fetchCounters struct {
	fetches, filesFetched, fellBack atomic.Uint64
	blocks, bytes, peersDropped     atomic.Uint64
}

// received counts one verified block of n bytes.
func (c *fetchCounters) received(n int) {
	c.blocks.Add(1)
	c.bytes.Add(uint64(n))
}

// Stats returns the Fetcher's counters: jobs started, finished and fallen
// back to Bitswap, verified blocks and bytes received, and peers dropped.
// It is safe to call while fetches run.
func (f *Fetcher) Stats() Stats {
	c := &f.stats
	return Stats{
		Fetches:        c.fetches.Load(),
		FilesFetched:   c.filesFetched.Load(),
		FellBack:       c.fellBack.Load(),
		BlocksReceived: c.blocks.Load(),
		BytesReceived:  c.bytes.Load(),
		PeersDropped:   c.peersDropped.Load(),
	}
}

// BytesServed returns the response bytes the Server has sent to peers.
func (s *Server) BytesServed() uint64 { return s.served.Load() }

// countingWriter adds the bytes of a response's body to n, and gives each
// write idle time to complete: a peer that takes nothing for that long
// fails the write, which ends the response.
type countingWriter struct {
	http.ResponseWriter
	n    *atomic.Uint64
	rc   *http.ResponseController
	idle time.Duration
	set  time.Time // when the deadline was last moved
}

// Write counts p and gives its write idle time from now.
func (w *countingWriter) Write(p []byte) (int, error) {
	w.extend()
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(uint64(n))
	return n, err
}

// extend moves the write deadline to idle from now. It is moved at most
// every idle/8, so a CAR of many small blocks does not pay for it on
// every write; the deadline is then between 7/8 and all of idle away.
func (w *countingWriter) extend() {
	now := time.Now()
	if now.Sub(w.set) < w.idle/8 {
		return
	}
	w.set = now
	_ = w.rc.SetWriteDeadline(now.Add(w.idle))
}

// Flush keeps streamed CARs flowing: boxo's gateway flushes through
// http.Flusher.
func (w *countingWriter) Flush() {
	w.extend()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the stream's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
