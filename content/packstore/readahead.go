package packstore

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Reads that follow one another through a pack (a file read front to
// back, a CAR streamed to a peer, blocks just fetched read back) are served
// from chunks read ahead in parallel: a direct read waits on the device,
// and one block at a time the device sat idle while the block was hashed
// and sent. Reads elsewhere go straight to the device.
const (
	chunkSize   = 4 << 20
	chunksAhead = 3 // chunks read ahead of a sequential reader
	chunksKept  = 8 // chunks held, 32 MiB at most
	// nearby is how far from the end of the last read in a pack a read
	// may start and still count as following it: an import commits
	// blocks in parallel, so a file's leaves are in its pack nearly in
	// order but not quite, and the parents come after their leaves.
	nearby = 8 << 20
)

type chunkKey struct {
	pack uint32
	idx  int64
}

// chunk is one aligned chunkSize span of a pack, loading or loaded.
type chunk struct {
	ready chan struct{}
	buf   []byte
	data  []byte // valid bytes from the chunk's start; short at the end of a pack
	err   error
	used  uint64
	// refs counts the holders of buf: being held by the readahead, and
	// each reader copying out of it. The last one recycles buf.
	refs int
}

// readahead keeps the chunks; its loads run under the store's context.
type readahead struct {
	ctx  context.Context
	wg   sync.WaitGroup
	mu   sync.Mutex
	tick uint64
	last map[uint32]int64 // per pack, where the last read ended
	held map[chunkKey]*chunk
	// free keeps chunk buffers for reuse: fresh memory costs a page fault
	// per 4 KiB, which on the development VM made reads cost more CPU
	// than the copies themselves.
	free [][]byte
}

func newReadahead(ctx context.Context) *readahead {
	return &readahead{ctx: ctx, last: make(map[uint32]int64), held: make(map[chunkKey]*chunk)}
}

// read returns the n bytes at off in pack from chunks when the read
// follows the last one in that pack or its chunks are already held, and
// ok=false otherwise. final is the length of the pack's bytes that will
// never change (all of a sealed pack: math.MaxInt64; the part of the pack
// being appended to that is written for good); chunks hold nothing past
// it.
func (r *readahead) read(f File, pack uint32, off int64, n int, final int64) (out []byte, ok bool, err error) {
	end := off + int64(n)
	first, lastIdx := off/chunkSize, (end-1)/chunkSize
	if n == 0 || end > final {
		return nil, false, nil
	}
	r.mu.Lock()
	prev, seen := r.last[pack]
	r.last[pack] = end
	sequential := seen && off > prev-nearby && off < prev+nearby
	var need []*chunk
	for idx := first; idx <= lastIdx; idx++ {
		c := r.held[chunkKey{pack, idx}]
		if c == nil && !sequential {
			r.mu.Unlock()
			return nil, false, nil
		}
		c = r.loadLocked(f, pack, idx, final)
		c.refs++
		need = append(need, c)
	}
	if sequential {
		for idx := lastIdx + 1; idx <= lastIdx+chunksAhead && idx*chunkSize < final; idx++ {
			r.loadLocked(f, pack, idx, final)
		}
	}
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		for _, c := range need {
			r.releaseLocked(c)
		}
		r.mu.Unlock()
	}()
	out = make([]byte, 0, n)
	for i, c := range need {
		<-c.ready
		if c.err != nil {
			return nil, true, c.err
		}
		start := (first + int64(i)) * chunkSize
		from, to := max(off, start)-start, min(end, start+chunkSize)-start
		if to > int64(len(c.data)) {
			return nil, false, nil
		}
		out = append(out, c.data[from:to]...)
	}
	return out, true, nil
}

// releaseLocked drops one reference to c's buffer, recycling it with the
// last.
func (r *readahead) releaseLocked(c *chunk) {
	c.refs--
	if c.refs == 0 && c.buf != nil && len(r.free) < chunksKept {
		r.free = append(r.free, c.buf)
		c.buf, c.data = nil, nil
	}
}

// loadLocked returns the chunk, starting its load if it is not held, and
// drops the least recently used chunks beyond chunksKept.
func (r *readahead) loadLocked(f File, pack uint32, idx int64, final int64) *chunk {
	r.tick++
	k := chunkKey{pack, idx}
	if c, ok := r.held[k]; ok {
		c.used = r.tick
		return c
	}
	// One reference for being held, one for the load.
	c := &chunk{ready: make(chan struct{}), used: r.tick, refs: 2}
	r.held[k] = c
	length := min(chunkSize, final-idx*chunkSize)
	if n := len(r.free); n > 0 {
		c.buf = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		c.buf = alignedBuf(chunkSize)
	}
	r.wg.Go(func() {
		var data []byte
		err := r.ctx.Err()
		if err == nil {
			buf := c.buf[:roundUp(length)]
			var got int
			got, err = f.ReadAt(buf, idx*chunkSize)
			if err == nil || errors.Is(err, io.EOF) {
				// Short at the end of a pack: reads past it go to the device.
				data, err = buf[:min(int64(got), length)], nil
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		c.data, c.err = data, err
		close(c.ready)
		if err != nil && r.held[k] == c {
			// A failed load is not kept.
			delete(r.held, k)
			r.releaseLocked(c)
		}
		r.releaseLocked(c)
	})
	for len(r.held) > chunksKept {
		var oldest chunkKey
		var at uint64
		for key, held := range r.held {
			if at == 0 || held.used < at {
				oldest, at = key, held.used
			}
		}
		r.releaseLocked(r.held[oldest])
		delete(r.held, oldest)
	}
	return c
}

// dropPack forgets everything read from pack, which is going away.
func (r *readahead) dropPack(pack uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, pack)
	for k, c := range r.held {
		if k.pack == pack {
			delete(r.held, k)
			r.releaseLocked(c)
		}
	}
}

// wait waits for the loads in flight, after the store's context ended.
func (r *readahead) wait() { r.wg.Wait() }
