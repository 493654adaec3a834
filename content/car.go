package content

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ipfs/boxo/blockservice"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// carBatchBytes is how much block data a CAR import writes per batch: big
// enough to amortise pebble's commits, small enough to bound memory.
const carBatchBytes = 8 << 20

// ExportCAR writes the DAG under root to w as a CARv1 with root as its one
// root, blocks in depth-first order (parents before children, as Kubo
// writes them), each block once: a block met again is skipped with its
// subtree, so the export costs one step per link of a distinct block
// however often the DAG shares subtrees. Blocks missing locally are
// fetched. It stops at the next block once ctx ends.
func (c *Content) ExportCAR(ctx context.Context, root cid.Cid, w io.Writer) error {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	out, err := storage.NewWritable(w, []cid.Cid{root}, car.WriteAsCarV1(true))
	if err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
	seen := map[string]bool{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[k.KeyString()] {
			continue
		}
		// Local reads do not look at ctx.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		seen[k.KeyString()] = true
		nd, err := c.dag.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("export %s: get %s: %w", root, k, err)
		}
		if err := out.Put(ctx, k.KeyString(), nd.RawData()); err != nil {
			return fmt.Errorf("export %s: write %s: %w", root, k, err)
		}
		links := nd.Links()
		for i := len(links) - 1; i >= 0; i-- {
			stack = append(stack, links[i].Cid)
		}
	}
	return nil
}

// CARRoot is one root of an imported CAR and the outcome of pinning it.
type CARRoot struct {
	Cid cid.Cid
	// PinErr is why the root could not be pinned; nil when it was, or when
	// pinning was not asked for.
	PinErr error
}

// CARImport is the outcome of ImportCAR.
type CARImport struct {
	Roots  []CARRoot
	Blocks int    // blocks in the CAR
	Bytes  uint64 // bytes of block data in the CAR
}

// stagePattern names ImportCAR's temporary files.
const stagePattern = "cairn-car-*"

// removeStaleStages deletes what imports cut short by a crash left in
// dir. Only the node's own StageDir is cleaned, never os.TempDir, where
// another node's import may be running.
func removeStaleStages(dir string) error {
	if dir == "" {
		return nil
	}
	stale, err := filepath.Glob(filepath.Join(dir, stagePattern))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range stale {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ImportCAR stores the blocks of a CARv1 or CARv2 stream and, with pinRoots,
// pins its roots recursively. It is all or nothing: the stream is first
// read to its end, every block checked against its CID and the whole
// copied to a temporary file; only if every block is sound (and the new
// ones fit under storage_max) are they written, from that copy, so a CAR
// with one bad block stores nothing. Memory stays at one batch whatever
// the CAR's size; the temporary file, in Config.StageDir, holds one CAR's
// bytes for the duration of the call.
func (c *Content) ImportCAR(ctx context.Context, r io.Reader, pinRoots bool) (CARImport, error) {
	ctx, done, err := c.begin(ctx)
	if err != nil {
		return CARImport{}, err
	}
	defer done()
	stage, err := os.CreateTemp(c.cfg.StageDir, stagePattern)
	if err != nil {
		return CARImport{}, fmt.Errorf("import car: stage: %w", err)
	}
	defer func() {
		stage.Close()
		os.Remove(stage.Name())
	}()
	res, err := c.checkCAR(ctx, io.TeeReader(r, stage))
	if err != nil {
		return CARImport{}, fmt.Errorf("import car: %w (nothing was stored)", err)
	}
	if _, err := stage.Seek(0, io.SeekStart); err != nil {
		return CARImport{}, fmt.Errorf("import car: %w", err)
	}
	// From here to the pins, a collection must not start: the blocks are
	// not yet pinned.
	unlock := c.bstore.PinLock(ctx)
	defer unlock.Unlock(ctx)
	if err := c.commitCAR(ctx, stage); err != nil {
		return CARImport{}, fmt.Errorf("import car: %w", err)
	}
	for i := range res.Roots {
		root := &res.Roots[i]
		if pinRoots {
			root.PinErr = c.pinImported(ctx, root.Cid)
		}
		if root.PinErr == nil {
			c.announce(ctx, root.Cid)
		}
	}
	return res, nil
}

// checkCAR reads a CAR to its end, verifying every block, and checks that
// the blocks not yet stored fit under the storage limit.
func (c *Content) checkCAR(ctx context.Context, r io.Reader) (CARImport, error) {
	// Trusted only in that go-car's own check is skipped: verify below
	// does the same and yields ErrHashMismatch naming the block.
	br, err := car.NewBlockReader(r, car.WithTrustedCAR(true))
	if err != nil {
		return CARImport{}, fmt.Errorf("read header: %w", err)
	}
	var res CARImport
	for _, k := range br.Roots {
		res.Roots = append(res.Roots, CARRoot{Cid: k})
	}
	var newBytes uint64
	for {
		if err := ctx.Err(); err != nil {
			return CARImport{}, err
		}
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CARImport{}, fmt.Errorf("block %d: %w", res.Blocks, err)
		}
		if err := verify(b); err != nil {
			return CARImport{}, err
		}
		res.Blocks++
		res.Bytes += uint64(len(b.RawData()))
		if has, err := c.sized.Has(ctx, b.Cid()); err == nil && !has {
			newBytes += uint64(len(b.RawData()))
		}
	}
	if st := c.sized.stat(); st.StorageMax > 0 && st.RepoSize+newBytes > st.StorageMax {
		return CARImport{}, fmt.Errorf("%w: content.storage_max is %d bytes, %d are stored and the CAR adds %d; run `cairn repo gc` or raise the limit",
			ErrStorageFull, st.StorageMax, st.RepoSize, newBytes)
	}
	return res, nil
}

// commitCAR writes the blocks of a CAR already checked by checkCAR.
func (c *Content) commitCAR(ctx context.Context, r io.Reader) error {
	br, err := car.NewBlockReader(r)
	if err != nil {
		return fmt.Errorf("reread staged car: %w", err)
	}
	var batch []blocks.Block
	var size int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := c.bstore.PutMany(ctx, batch); err != nil {
			return fmt.Errorf("write blocks: %w", err)
		}
		batch, size = batch[:0], 0
		return nil
	}
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("reread staged car: %w", err)
		}
		batch = append(batch, b)
		if size += len(b.RawData()); size >= carBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// pinImported pins root recursively, fetching what the CAR lacked. The
// caller holds the pin lock.
func (c *Content) pinImported(ctx context.Context, root cid.Cid) error {
	ctx = blockservice.ContextWithSession(ctx, c.bserv)
	nd, err := c.dag.Get(ctx, root)
	if err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	if err := c.pins.Pin(ctx, nd, true, ""); err != nil {
		return fmt.Errorf("pin %s: %w", root, err)
	}
	return nil
}
