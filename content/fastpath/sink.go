package fastpath

import (
	"fmt"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
)

// minPooled is the smallest buffer a job reuses: smaller ones cost the
// allocator little, while each fresh megabyte costs page faults.
const minPooled = 64 << 10

// bufPool holds the buffers a FetchTo job reads blocks into, for reuse
// once a block is written to the file and stored. It belongs to one job,
// so that an idle node holds none; a nil pool allocates.
type bufPool struct {
	free chan []byte
}

func newBufPool(n int) *bufPool { return &bufPool{free: make(chan []byte, n)} }

// get returns a buffer of n bytes.
func (p *bufPool) get(n int) []byte {
	if p != nil && n >= minPooled {
		select {
		case b := <-p.free:
			if cap(b) >= n {
				return b[:n]
			}
		default:
		}
	}
	return make([]byte, n)
}

// put gives b back; the caller holds no reference to it any more.
func (p *bufPool) put(b []byte) {
	if p == nil || cap(b) < minPooled {
		return
	}
	select {
	case p.free <- b[:cap(b)]:
	default:
	}
}

// errSink is a failed write to a FetchTo job's file: the fetch ends, and
// no peer is blamed.
type errSink struct{ err error }

// Error says the file's write failed, and why.
func (e errSink) Error() string { return "write file: " + e.err.Error() }

// Unwrap is the write's error.
func (e errSink) Unwrap() error { return e.err }

// sinkWrite writes the file bytes block c (data) holds itself at off of
// the job's file. A failure ends the job.
func (j *Job) sinkWrite(c cid.Cid, data []byte, off int64) error {
	b, err := fileData(c, data)
	if err != nil || len(b) == 0 {
		return err
	}
	if _, err := j.sink.WriteAt(b, off); err != nil {
		err = errSink{err}
		j.end(err)
		return err
	}
	return nil
}

// fileData is the file bytes a UnixFS block holds itself (not through its
// children): a raw block's bytes, or a dag-pb node's data.
func fileData(c cid.Cid, data []byte) ([]byte, error) {
	if c.Type() == cid.Raw {
		return data, nil
	}
	nd, err := merkledag.DecodeProtobuf(data)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	fs, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	return fs.Data(), nil
}

// Size is the size of the file a FetchTo job fetches, once its root is
// known; -1 when the root is not a file.
func (j *Job) Size() int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.size
}
