package content

import (
	"io"
	"runtime"
	"sync"

	chunk "github.com/ipfs/boxo/chunker"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	ipld "github.com/ipfs/go-ipld-format"
)

// leafWorkers is how many goroutines of a file import build and hash
// leaves: all cores but one, which the goroutine reading the chunks needs
// to itself. It is the import's critical path: traces of a 1 GiB add on 2
// cores showed it waiting 1.4 s for a core behind two workers, 0.9 s
// behind one (one worker hashes 1.4 GB/s, more than it reads).
func leafWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// leafReadAhead is how many chunks a file import reads ahead of the
// layout, each held until its leaf is added: two per worker, so that a
// worker finds its next chunk read when it finishes the one in hand, and
// two for the layout, the leaf it waits for and the chunk being read. With
// 1 MiB chunks on 2 cores, 4 MiB per import.
func leafReadAhead(workers int) int { return 2*workers + 2 }

// buildFile lays the chunks of spl out as a balanced UnixFS DAG into
// params.Dagserv, returning the root. The DAG is the one boxo's
// balanced.Layout builds, block for block and in the same order, but the
// leaves are built and hashed on other cores while the importing
// goroutine reads the next chunks: hashing every byte was otherwise the
// import's largest cost on the one goroutine that also reads them.
func buildFile(spl chunk.Splitter, params helpers.DagBuilderParams) (ipld.Node, error) {
	db, err := params.New(spl)
	if err != nil {
		return nil, err
	}
	if params.NoCopy {
		// Filestore leaves carry their offset, which only boxo's own
		// sequential layout keeps.
		return balanced.Layout(db)
	}
	workers := leafWorkers()
	leaves := newLeafSource(db, spl, workers, leafReadAhead(workers))
	defer leaves.close()
	return balancedLayout(db, leaves)
}

// balancedLayout builds the DAG boxo's balanced.Layout builds — every
// node full (Maxlinks children) but the last one of each level, the tree
// no deeper than it must be, blocks reaching db in the same order, as
// TestBuildFileMatchesBoxo checks against whichever boxo is in go.mod —
// with the leaves taken from leaves. It keeps one node being filled per
// level, like the digits of a counter: a full node is committed and
// carried up a level once more data is known to follow; at the end the
// partly filled levels are committed bottom up.
func balancedLayout(db *helpers.DagBuilderHelper, leaves *leafSource) (ipld.Node, error) {
	b := &levels{db: db}
	var root ipld.Node
	if leaves.done() {
		// An empty file is one empty leaf.
		var err error
		if root, err = db.NewLeafNode(nil, ft.TFile); err != nil {
			return nil, err
		}
	}
	for count := 0; root == nil && !leaves.done(); count++ {
		leaf, size, err := leaves.next()
		if err != nil {
			return nil, err
		}
		if count == 0 && leaves.done() {
			// A file of one chunk is that leaf alone.
			root = leaf
			break
		}
		if err := b.add(leaf, size); err != nil {
			return nil, err
		}
	}
	if root == nil {
		var err error
		if root, err = b.finish(); err != nil {
			return nil, err
		}
	}
	if db.HasFileAttributes() {
		if err := db.SetFileAttributes(root); err != nil {
			return nil, err
		}
	}
	return root, db.Add(root)
}

// levels holds, for each height h, the node being filled with children of
// height h (leaves are height 0), and the last full node, not yet given a
// parent: if the file ends there, it is the root.
type levels struct {
	db      *helpers.DagBuilderHelper
	filling []*helpers.FSNodeOverDag
	full    ipld.Node
	fullH   int
	fullLen uint64
}

// add gives the full node a parent now that more follows, then adds leaf.
func (l *levels) add(leaf ipld.Node, size uint64) error {
	for l.full != nil {
		nd, h, n := l.full, l.fullH, l.fullLen
		l.full = nil
		if err := l.put(h, nd, n); err != nil {
			return err
		}
	}
	return l.put(0, leaf, size)
}

// put adds child to the node filling at height h, committing that node
// as the full one when it reaches Maxlinks children.
func (l *levels) put(h int, child ipld.Node, size uint64) error {
	for len(l.filling) <= h {
		l.filling = append(l.filling, nil)
	}
	if l.filling[h] == nil {
		l.filling[h] = l.db.NewFSNodeOverDag(ft.TFile)
	}
	node := l.filling[h]
	if err := node.AddChild(child, size, l.db); err != nil {
		return err
	}
	if node.NumChildren() < l.db.Maxlinks() {
		return nil
	}
	l.filling[h] = nil
	nd, err := node.Commit()
	if err != nil {
		return err
	}
	l.full, l.fullH, l.fullLen = nd, h+1, node.FileSize()
	return nil
}

// finish commits the partly filled nodes from the bottom up, each the
// last child of the one above, and returns the root.
func (l *levels) finish() (ipld.Node, error) {
	if l.full != nil && len(l.filling) <= l.fullH {
		return l.full, nil
	}
	var carry ipld.Node
	var carryLen uint64
	for h, node := range l.filling {
		if l.full != nil && l.fullH == h {
			// A full node whose level above holds others: it joins them.
			carry, carryLen, l.full = l.full, l.fullLen, nil
		}
		if carry != nil {
			if node == nil {
				node = l.db.NewFSNodeOverDag(ft.TFile)
			}
			if err := node.AddChild(carry, carryLen, l.db); err != nil {
				return nil, err
			}
			carry = nil
		}
		if node == nil {
			continue
		}
		nd, err := node.Commit()
		if err != nil {
			return nil, err
		}
		carry, carryLen = nd, node.FileSize()
	}
	return carry, nil
}

// leafSource reads a file's chunks on the caller's goroutine, a window
// ahead of the layout, and has workers build and hash each chunk's leaf
// meanwhile. Only the caller reads the splitter, so nothing touches the
// file's reader once close returns; the workers only hash.
type leafSource struct {
	db      *helpers.DagBuilderHelper
	spl     chunk.Splitter
	ahead   int
	maxWork int
	window  []*pendingLeaf // read and handed to the workers, in file order
	ended   bool           // the splitter has no more chunks
	err     error          // the splitter failed; reported after window
	jobs    chan *pendingLeaf
	nwork   int
	wg      sync.WaitGroup
}

// pendingLeaf is one chunk's leaf. Once queued for a worker, it is
// built when ready is closed; if not, the layout builds it.
type pendingLeaf struct {
	data   []byte
	nd     ipld.Node
	err    error
	queued bool
	ready  chan struct{}
}

// newLeafSource reads spl up to ahead chunks in advance, with up to
// workers goroutines building leaves.
func newLeafSource(db *helpers.DagBuilderHelper, spl chunk.Splitter, workers, ahead int) *leafSource {
	ahead = max(ahead, 1)
	return &leafSource{db: db, spl: spl, ahead: ahead, maxWork: max(workers, 1)}
}

// fill reads chunks until the window is full or the splitter stops,
// treating chunks as helpers.DagBuilderHelper does: io.EOF (compared with
// ==, as there) with or without data is the end, and so is a nil chunk
// without an error.
func (s *leafSource) fill() {
	for len(s.window) < s.ahead && !s.ended && s.err == nil {
		data, err := s.spl.NextBytes()
		if err != nil && err != io.EOF {
			s.err = err
			return
		}
		if data == nil {
			s.ended = true
			return
		}
		// As in boxo, a chunk that comes with io.EOF is followed by one
		// more NextBytes, which a splitter answers with nil, io.EOF.
		p := &pendingLeaf{data: data}
		s.window = append(s.window, p)
		// A file of one chunk, most files of a directory, is hashed in
		// line: handing it to a worker and waiting made importing many
		// small files slower.
		if len(s.window) > 1 || s.nwork > 0 {
			for _, q := range s.window {
				s.dispatch(q)
			}
		}
	}
}

// dispatch hands p to a worker unless it already was, starting workers
// as chunks pile up.
func (s *leafSource) dispatch(p *pendingLeaf) {
	if p.queued {
		return
	}
	p.queued = true
	p.ready = make(chan struct{})
	if s.jobs == nil {
		// The window, and the leaf next is waiting for.
		s.jobs = make(chan *pendingLeaf, s.ahead+1)
	}
	if s.nwork < s.maxWork && s.nwork < len(s.window) {
		s.nwork++
		s.wg.Go(s.work)
	}
	s.jobs <- p // never blocks
}

func (s *leafSource) work() {
	for p := range s.jobs {
		s.build(p)
		close(p.ready)
	}
}

func (s *leafSource) build(p *pendingLeaf) {
	p.nd, p.err = s.db.NewLeafNode(p.data, ft.TFile)
	if p.err == nil {
		// A dag-pb leaf encodes and hashes itself lazily; doing it here
		// keeps that off the layout's goroutine. The result is cached in
		// the node.
		_ = p.nd.Cid()
	}
}

// done reports whether every leaf has been taken; false while an error is
// still to be reported by next.
func (s *leafSource) done() bool {
	s.fill()
	return len(s.window) == 0 && s.err == nil
}

// next returns the next leaf and the file bytes it holds.
func (s *leafSource) next() (ipld.Node, uint64, error) {
	s.fill()
	if len(s.window) == 0 {
		if s.err != nil {
			return nil, 0, s.err
		}
		return nil, 0, io.ErrUnexpectedEOF
	}
	p := s.window[0]
	s.window[0] = nil
	s.window = s.window[1:]
	// Reading the next chunk before waiting overlaps it with p's hashing.
	s.fill()
	if p.queued {
		<-p.ready
	} else {
		s.build(p)
	}
	if p.err != nil {
		return nil, 0, p.err
	}
	return p.nd, uint64(len(p.data)), nil
}

// close stops the workers once they have finished the leaves in hand.
func (s *leafSource) close() {
	if s.jobs != nil {
		close(s.jobs)
		s.wg.Wait()
	}
}
