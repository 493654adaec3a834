package shell

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// DAGBackend is what the dag commands need from the node.
type DAGBackend interface {
	// ExportDAG writes the DAG under root to w as a CARv1, fetching what
	// is missing locally.
	ExportDAG(ctx context.Context, root cid.Cid, w io.Writer) error
	// ImportDAG stores every block of the CAR read from r, or none of them
	// if any is unsound, and pins its roots when asked.
	ImportDAG(ctx context.Context, r io.Reader, pinRoots bool) (DAGImport, error)
}

// DAGImport is the outcome of importing one CAR.
type DAGImport struct {
	Roots  []DAGRoot
	Blocks int    // blocks in the CAR
	Bytes  uint64 // bytes of block data in the CAR
}

// DAGRoot is a CAR root and, if pinning it failed, why.
type DAGRoot struct {
	Cid         cid.Cid
	PinErrorMsg string
}

// dagExport streams the DAG under arg as a CARv1.
func (s *shell) dagExport(w http.ResponseWriter, r *http.Request) error {
	c, err := oneCIDArg(r.URL.Query())
	if err != nil {
		return err
	}
	out := &lazyStream{w: w}
	if err := s.backend.ExportDAG(r.Context(), c, out); err != nil {
		return fetchError(r.Context(), c, err)
	}
	if !out.started {
		startStream(w, -1)
	}
	return nil
}

// lazyStream starts a raw response at the first byte, so that a failure
// before any (the root cannot be found) is still a proper error response.
type lazyStream struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyStream) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		startStream(l.w, -1)
	}
	return flushWriter{l.w}.Write(p)
}

// dagImportRoot is one line of dag/import's output, in Kubo's shape.
type dagImportRoot struct {
	Root struct {
		Cid         cidLink
		PinErrorMsg string
	}
}

// dagImportStats is dag/import's closing line with stats=true.
type dagImportStats struct {
	Stats struct {
		BlockCount      uint64
		BlockBytesCount uint64
	}
}

// dagImport imports each uploaded CAR, pinning its roots unless
// pin-roots=false, and reports each root.
func (s *shell) dagImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	pinRoots, err := boolParam(q, "pin-roots", true)
	if err != nil {
		return err
	}
	stats, err := boolParam(q, "stats", false)
	if err != nil {
		return err
	}
	dir, err := s.multipartFiles(w, r)
	if err != nil {
		return err
	}
	defer fullDuplex(w, r)()
	out := &jsonStream{w: w}
	var total dagImportStats
	n := 0
	it := dir.Entries()
	for it.Next() {
		res, err := s.importOne(r.Context(), it.Name(), it.Node(), pinRoots)
		if err != nil {
			return err
		}
		n++
		total.Stats.BlockCount += uint64(res.Blocks)
		total.Stats.BlockBytesCount += res.Bytes
		for _, root := range res.Roots {
			var line dagImportRoot
			line.Root.Cid = cidLink{root.Cid.String()}
			line.Root.PinErrorMsg = root.PinErrorMsg
			if err := out.emit(line); err != nil {
				return err
			}
		}
	}
	if err := endOfParts(it, n); err != nil {
		return err
	}
	if stats {
		return out.emit(total)
	}
	out.start()
	return nil
}

// importOne imports one uploaded CAR.
func (s *shell) importOne(ctx context.Context, name string, nd files.Node, pinRoots bool) (DAGImport, error) {
	f, err := regularFile(name, nd)
	if err != nil {
		return DAGImport{}, err
	}
	defer f.Close()
	res, err := s.backend.ImportDAG(ctx, f, pinRoots)
	if err != nil {
		return DAGImport{}, fmt.Errorf("importing %q: %w", name, err)
	}
	return res, nil
}
