package peer

import (
	"context"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// transfers are the reads of content running through the shell now (cat,
// the files of get, dag export), for `status` and the web page: what is
// moving, how far along. A read of a file the store did not hold when it
// began is a fetch, and its time goes to cairn_fetch_seconds when it ends.
type transfers struct {
	fetchSeconds func(outcome string, took time.Duration)

	mu   sync.Mutex
	next uint64
	live map[uint64]*transfer
}

// transfer is one read in flight.
type transfer struct {
	id      uint64
	root    cid.Cid
	kind    string // "read" or "export"
	size    int64  // bytes the read will take; -1 when unknown
	fetch   bool   // the store lacked the root when the read began
	started time.Time
	done    atomic.Int64 // bytes read so far
}

func newTransfers(fetchSeconds func(string, time.Duration)) *transfers {
	return &transfers{fetchSeconds: fetchSeconds, live: map[uint64]*transfer{}}
}

// start registers a read; end must follow, once.
func (ts *transfers) start(root cid.Cid, kind string, size int64, fetch bool) *transfer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.next++
	t := &transfer{id: ts.next, root: root, kind: kind, size: size, fetch: fetch, started: time.Now()}
	ts.live[t.id] = t
	return t
}

// end removes t, timing it as a fetch if it was one.
func (ts *transfers) end(t *transfer, outcome string) {
	ts.mu.Lock()
	_, ok := ts.live[t.id]
	delete(ts.live, t.id)
	ts.mu.Unlock()
	if ok && t.fetch && ts.fetchSeconds != nil {
		ts.fetchSeconds(outcome, time.Since(t.started))
	}
}

// list reports the reads in flight, oldest first.
func (ts *transfers) list() []shell.Transfer {
	ts.mu.Lock()
	out := make([]shell.Transfer, 0, len(ts.live))
	for _, t := range ts.live {
		out = append(out, shell.Transfer{Cid: t.root, Kind: t.kind, Bytes: t.done.Load(), Size: t.size, Fetch: t.fetch, Started: t.started})
	}
	ts.mu.Unlock()
	slices.SortFunc(out, func(a, b shell.Transfer) int { return a.Started.Compare(b.Started) })
	return out
}

// track wraps a file opened for reading so that its progress shows until
// it is read to the end or closed. Directories pass through.
func (ts *transfers) track(nd files.Node, root cid.Cid, fetch bool, length int64) files.Node {
	f, ok := nd.(files.File)
	if !ok {
		return nd
	}
	size, err := f.Size()
	if err != nil {
		size = -1
	}
	if length >= 0 && (size < 0 || length < size) {
		size = length
	}
	tf := &trackedFile{File: f, ts: ts, t: ts.start(root, "read", size, fetch)}
	if sk, ok := f.(io.Seeker); ok {
		return &trackedSeekFile{trackedFile: tf, sk: sk}
	}
	return tf
}

// trackedFile counts what is read of a file.
type trackedFile struct {
	files.File
	ts   *transfers
	t    *transfer
	once sync.Once
}

// Read reads and counts; the end of the file, or a failure, ends the
// transfer.
func (f *trackedFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.t.done.Add(int64(n))
	switch {
	case errors.Is(err, io.EOF):
		f.finish("complete")
	case err != nil:
		f.finish("failed")
	}
	return n, err
}

// Close ends the transfer, as abandoned if the end was not reached.
func (f *trackedFile) Close() error {
	f.finish("abandoned")
	return f.File.Close()
}

func (f *trackedFile) finish(outcome string) {
	f.once.Do(func() { f.ts.end(f.t, outcome) })
}

// trackedSeekFile keeps the file's Seek, which cat uses to skip to an
// offset rather than read up to it.
type trackedSeekFile struct {
	*trackedFile
	sk io.Seeker
}

// Seek moves in the file.
func (f *trackedSeekFile) Seek(offset int64, whence int) (int64, error) {
	return f.sk.Seek(offset, whence)
}

// held reports whether the store has root, so that a read can tell a fetch
// from a local read; an error counts as not held.
func (n *Node) held(ctx context.Context, root cid.Cid) bool {
	has, err := n.content.BlockService().Blockstore().Has(ctx, root)
	return err == nil && has
}

// outcome names how a transfer that returned err ended.
func outcome(err error) string {
	switch {
	case err == nil:
		return "complete"
	case errors.Is(err, context.Canceled):
		return "abandoned"
	default:
		return "failed"
	}
}
