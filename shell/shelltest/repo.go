package shelltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell"
)

// repoState is the fake's pins and its record of corrupt blocks; the zero
// value is empty.
type repoState struct {
	pins    map[cid.Cid]string // CID → shell.PinRecursive or shell.PinDirect
	corrupt []cid.Cid
}

// Corrupt makes Verify report c as corrupt.
func (b *Backend) Corrupt(c cid.Cid) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.repo.corrupt = append(b.repo.corrupt, c)
}

// HasBlock reports whether the fake holds c as a block.
func (b *Backend) HasBlock(c cid.Cid) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.blocks[c]
	return ok
}

// Pin implements shell.Backend over the fake's blocks and files; the fake
// knows no DAGs, so a recursive pin keeps its root alone.
func (b *Backend) Pin(ctx context.Context, c cid.Cid, recursive bool) error {
	b.mu.Lock()
	_, isBlock := b.blocks[c]
	_, isNode := b.nodes[c]
	b.mu.Unlock()
	if !isBlock && !isNode {
		<-ctx.Done()
		return fmt.Errorf("fetching %s: %w", c, ctx.Err())
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.repo.pins == nil {
		b.repo.pins = map[cid.Cid]string{}
	}
	if recursive {
		b.repo.pins[c] = shell.PinRecursive
	} else if b.repo.pins[c] != shell.PinRecursive {
		b.repo.pins[c] = shell.PinDirect
	}
	return nil
}

// Unpin implements shell.Backend.
func (b *Backend) Unpin(_ context.Context, c cid.Cid) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.repo.pins[c]; !ok {
		return errors.New("not pinned or pinned indirectly")
	}
	delete(b.repo.pins, c)
	return nil
}

// ListPins implements shell.Backend, in CID order.
func (b *Backend) ListPins(_ context.Context, types ...string) ([]shell.PinStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []shell.PinStatus
	for c, typ := range b.repo.pins {
		if slices.Contains(types, typ) {
			out = append(out, shell.PinStatus{Cid: c, Type: typ})
		}
	}
	slices.SortFunc(out, func(x, y shell.PinStatus) int { return bytes.Compare(x.Cid.Bytes(), y.Cid.Bytes()) })
	return out, nil
}

// CheckPins implements shell.Backend.
func (b *Backend) CheckPins(_ context.Context, cids ...cid.Cid) ([]shell.PinStatus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]shell.PinStatus, len(cids))
	for i, c := range cids {
		out[i] = shell.PinStatus{Cid: c, Type: b.repo.pins[c]}
	}
	return out, nil
}

// GC implements shell.Backend: it drops every unpinned block, in CID
// order, after reporting as skipped each pinned block given to Corrupt.
func (b *Backend) GC(_ context.Context, removed func(cid.Cid) error, skipped func(cid.Cid, error) error) error {
	b.mu.Lock()
	var unreadable []cid.Cid
	for _, c := range b.repo.corrupt {
		if _, ok := b.repo.pins[c]; ok {
			unreadable = append(unreadable, c)
		}
	}
	b.mu.Unlock()
	for _, c := range unreadable {
		if err := skipped(c, errors.New("hash mismatch")); err != nil {
			return err
		}
	}
	b.mu.Lock()
	var gone []cid.Cid
	for c := range b.blocks {
		if _, ok := b.repo.pins[c]; !ok {
			gone = append(gone, c)
			delete(b.blocks, c)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(gone, func(x, y cid.Cid) int { return bytes.Compare(x.Bytes(), y.Bytes()) })
	for _, c := range gone {
		if err := removed(c); err != nil {
			return err
		}
	}
	return nil
}

// RepoStat implements shell.Backend, counting the fake's blocks.
func (b *Backend) RepoStat(context.Context) (shell.RepoStat, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := shell.RepoStat{NumObjects: uint64(len(b.blocks)), StorageMax: 1 << 30, RepoPath: "/fake/repo"}
	for _, data := range b.blocks {
		st.RepoSize += uint64(len(data))
	}
	return st, nil
}

// Verify implements shell.Backend, reporting the blocks given to Corrupt;
// with repair, each is repaired.
func (b *Backend) Verify(_ context.Context, repair bool, bad func(shell.DamagedBlock) error) (int, error) {
	b.mu.Lock()
	n, corrupt := len(b.blocks), slices.Clone(b.repo.corrupt)
	if repair {
		b.repo.corrupt = nil
	}
	b.mu.Unlock()
	for _, c := range corrupt {
		if err := bad(shell.DamagedBlock{Cid: c, Reason: "hash mismatch", Repaired: repair}); err != nil {
			return n, err
		}
	}
	return n, nil
}

// ExportDAG implements shell.Backend: the fake's "CAR" of a block is its
// bytes; content it lacks is fetched until ctx ends.
func (b *Backend) ExportDAG(ctx context.Context, root cid.Cid, w io.Writer) error {
	b.mu.Lock()
	data, ok := b.blocks[root]
	b.mu.Unlock()
	if !ok {
		<-ctx.Done()
		return fmt.Errorf("fetching %s: %w", root, ctx.Err())
	}
	_, err := w.Write(data)
	return err
}

// ImportDAG implements shell.Backend: the fake stores the upload as one raw
// block, its root, and refuses an upload that starts with "bad".
func (b *Backend) ImportDAG(ctx context.Context, r io.Reader, pinRoots bool) (shell.DAGImport, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return shell.DAGImport{}, err
	}
	if bytes.HasPrefix(data, []byte("bad")) {
		return shell.DAGImport{}, errors.New("block 0: hash mismatch")
	}
	c := b.AddBlock(data)
	if pinRoots {
		if err := b.Pin(ctx, c, true); err != nil {
			return shell.DAGImport{}, err
		}
	}
	return shell.DAGImport{Roots: []shell.DAGRoot{{Cid: c}}, Blocks: 1, Bytes: uint64(len(data))}, nil
}
