package content

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestCARRoundTrip(t *testing.T) {
	src, dst := newOffline(t, smallChunks()), newOffline(t, smallChunks())
	ctx := testContext(t)
	data := randomBytes(100<<10, 1)
	file, buf := exportedCAR(t, src, data)
	res, err := dst.ImportCAR(ctx, bytes.NewReader(buf.Bytes()), true)
	if err != nil {
		t.Fatalf("ImportCAR: %v", err)
	}
	if len(res.Roots) != 1 || !res.Roots[0].Cid.Equals(file.Cid) || res.Roots[0].PinErr != nil {
		t.Fatalf("roots %+v, want %s pinned", res.Roots, file.Cid)
	}
	if want := len(dagHashes(t, src, file.Cid)); res.Blocks != want {
		t.Fatalf("imported %d blocks, the DAG has %d", res.Blocks, want)
	}
	wantReadable(t, dst, file.Cid, data)
	pins, _ := dst.CheckPins(ctx, file.Cid)
	if pins[0].Type != PinRecursive {
		t.Fatalf("imported root pinned as %q, want recursive", pins[0].Type)
	}
	// Pinned, so a collection keeps it all.
	if removed := gc(t, dst); len(removed) != 0 {
		t.Fatalf("GC removed %d imported blocks", len(removed))
	}

	// Exporting again gives the same bytes: the order is deterministic.
	var again bytes.Buffer
	if err := dst.ExportCAR(ctx, file.Cid, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Fatal("re-export differs from the export it was imported from")
	}
}

func TestCARImportWithoutPin(t *testing.T) {
	src, dst := newOffline(t, smallChunks()), newOffline(t, smallChunks())
	ctx := testContext(t)
	file, buf := exportedCAR(t, src, randomBytes(20<<10, 2))
	if _, err := dst.ImportCAR(ctx, buf, false); err != nil {
		t.Fatal(err)
	}
	if pins, _ := dst.CheckPins(ctx, file.Cid); pins[0].Type != "" {
		t.Fatalf("pin-roots=false pinned the root as %q", pins[0].Type)
	}
}

func TestCARImportRejectsTamperedCARAndStoresNothing(t *testing.T) {
	src, dst := newOffline(t, smallChunks()), newOffline(t, smallChunks())
	ctx := testContext(t)
	data := randomBytes(100<<10, 3)
	_, buf := exportedCAR(t, src, data)
	car := buf.Bytes()
	// Flip one byte of file data near the end: a leaf late in the CAR, so
	// the blocks before it are sound and would be stored by a naive import.
	i := bytes.LastIndex(car, data[len(data)-64:])
	if i < 0 {
		t.Fatal("file bytes not found in the CAR")
	}
	car[i+10] ^= 0xff

	_, err := dst.ImportCAR(ctx, bytes.NewReader(car), true)
	if err == nil {
		t.Fatal("a tampered CAR was imported")
	}
	st, _ := dst.RepoStat(ctx)
	if st.NumObjects != 0 {
		t.Fatalf("a rejected CAR left %d blocks behind (%v)", st.NumObjects, err)
	}
	if pins, _ := dst.ListPins(ctx, PinRecursive, PinDirect); len(pins) != 0 {
		t.Fatalf("a rejected CAR left pins %v", pins)
	}
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("error %q does not say the block did not match", err)
	}
}

// TestCARImportStagesInStageDir: the CAR waits in StageDir (the repo, not
// /tmp) while it is checked, is gone once imported, and what a crash left
// there is removed when the next Content starts.
func TestCARImportStagesInStageDir(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "cairn-car-123")
	if err := os.WriteFile(stale, []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "other")
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := smallChunks()
	cfg.StageDir = dir
	src, dst := newOffline(t, smallChunks()), newOffline(t, cfg)
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale stage still there after start: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("start removed a file that is not a stage: %v", err)
	}
	ctx := testContext(t)
	data := randomBytes(50<<10, 3)
	file, buf := exportedCAR(t, src, data)
	// The stage must exist while the CAR is read: look for it from the
	// reader, after the header and before the end.
	var seen []string
	r := &peekReader{r: buf, at: 1, peek: func() {
		seen, _ = filepath.Glob(filepath.Join(dir, "cairn-car-*"))
	}}
	if _, err := dst.ImportCAR(ctx, r, true); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 {
		t.Fatalf("stages in StageDir during the import: %v, want one", seen)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "cairn-car-*")); len(left) != 0 {
		t.Fatalf("stage left after the import: %v", left)
	}
	wantReadable(t, dst, file.Cid, data)
}

// peekReader calls peek once, on its at-th Read.
type peekReader struct {
	r    io.Reader
	n    int
	at   int
	peek func()
}

func (p *peekReader) Read(b []byte) (int, error) {
	if p.n == p.at {
		p.peek()
	}
	p.n++
	return p.r.Read(b)
}

// exportedCAR imports data into src, pinned, and exports its DAG as a CAR.
func exportedCAR(t *testing.T, src *Content, data []byte) (ImportResult, *bytes.Buffer) {
	t.Helper()
	file := importBytes(t, src, data, ImportOptions{CIDVersion: -1, Pin: true})
	var buf bytes.Buffer
	if err := src.ExportCAR(testContext(t), file.Cid, &buf); err != nil {
		t.Fatalf("ExportCAR: %v", err)
	}
	return file, &buf
}
