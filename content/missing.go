package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// MissingBlockError is a read of a file that failed while waiting for one
// of its blocks (the one named): no peer sent it before the read's context
// ended, or the fetch failed. The root alone would not tell a user which
// part of a large file nobody has.
type MissingBlockError struct {
	Cid cid.Cid
	Err error
}

// Error names the block and why it was not got.
func (e *MissingBlockError) Error() string {
	return fmt.Sprintf("block %s not found: %v", e.Cid, e.Err)
}

// Unwrap is why the block was not got (the read's context ending).
func (e *MissingBlockError) Unwrap() error { return e.Err }

// MissingBlock names the block, for callers that match on the method
// rather than import this package.
func (e *MissingBlockError) MissingBlock() cid.Cid { return e.Cid }

// missingTracker knows which blocks a read of one file asked for and has
// not got, so that a read error can name the first of them: boxo's UnixFS
// reader reports only the context's error when a block never comes, and
// it reports it as the context ends, maybe before the request that waited
// for the block has seen that end.
type missingTracker struct {
	mu    sync.Mutex
	seq   int                  // requests so far
	calls map[int]*trackedCall // requests not yet answered in full, by seq
}

// trackedCall is one request's keys, in the order asked, and those given.
type trackedCall struct {
	keys []cid.Cid
	got  map[string]bool
}

// start records a request for keys and returns its number.
func (t *missingTracker) start(keys []cid.Cid) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	if t.calls == nil {
		t.calls = make(map[int]*trackedCall)
	}
	t.calls[t.seq] = &trackedCall{keys: keys, got: make(map[string]bool, len(keys))}
	return t.seq
}

// got records that request seq gave c; all is set once it gave every key.
func (t *missingTracker) got(seq int, c cid.Cid, all bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if all {
		delete(t.calls, seq)
		return
	}
	if call := t.calls[seq]; call != nil {
		call.got[string(c.Hash())] = true
	}
}

// first is the first block missing from the earliest request that
// misses one.
func (t *missingTracker) first() (cid.Cid, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	seqs := slices.Sorted(maps.Keys(t.calls))
	for _, seq := range seqs {
		call := t.calls[seq]
		for _, k := range call.keys {
			if !call.got[string(k.Hash())] {
				return k, true
			}
		}
	}
	return cid.Undef, false
}

// wrap names the missing block in err, if a request still misses one.
func (t *missingTracker) wrap(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if c, ok := t.first(); ok {
		return &MissingBlockError{Cid: c, Err: err}
	}
	return err
}

// trackedDAG is a DAG service that tells its tracker what it was asked
// for and what it gave.
type trackedDAG struct {
	ipld.DAGService
	t *missingTracker
}

// Get gets c, telling the tracker.
func (d trackedDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	seq := d.t.start([]cid.Cid{c})
	nd, err := d.DAGService.Get(ctx, c)
	if err == nil {
		d.t.got(seq, c, true)
	}
	return nd, err
}

// GetMany passes the nodes through, telling the tracker of each.
func (d trackedDAG) GetMany(ctx context.Context, keys []cid.Cid) <-chan *ipld.NodeOption {
	seq := d.t.start(keys)
	in := d.DAGService.GetMany(ctx, keys)
	// The source sends at most a node per key and one error.
	out := make(chan *ipld.NodeOption, len(keys)+1)
	go func() {
		defer close(out)
		// The source drops duplicate keys.
		uniq := make(map[cid.Cid]struct{}, len(keys))
		for _, k := range keys {
			uniq[k] = struct{}{}
		}
		want := len(uniq)
		n := 0
		for opt := range in {
			if opt.Err == nil {
				n++
				d.t.got(seq, opt.Node.Cid(), n >= want)
			}
			out <- opt
		}
	}()
	return out
}

// trackedFile is a file whose read errors name the block they waited for.
type trackedFile struct {
	files.File
	t *missingTracker
}

// Read reads the file, naming the block it waited for in an error.
func (f trackedFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	return n, f.t.wrap(err)
}

// Seek moves within the file; every UnixFS file boxo opens can.
func (f trackedFile) Seek(offset int64, whence int) (int64, error) {
	sk, ok := f.File.(io.Seeker)
	if !ok {
		return 0, errors.New("file cannot seek")
	}
	n, err := sk.Seek(offset, whence)
	return n, f.t.wrap(err)
}

// WriteTo lets io.Copy use the reader's own WriteTo (boxo's DAG reader
// writes each leaf straight to w) rather than copy through a buffer.
func (f trackedFile) WriteTo(w io.Writer) (int64, error) {
	if wt, ok := f.File.(io.WriterTo); ok {
		n, err := wt.WriteTo(w)
		return n, f.t.wrap(err)
	}
	n, err := io.Copy(w, struct{ io.Reader }{f.File})
	return n, f.t.wrap(err)
}
