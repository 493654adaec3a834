package peer

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestDirectFileWritesEveryPiece: aligned and unaligned pieces, some from
// memory that is not aligned, written at once from several goroutines in
// any order, make the file they should, on disk and where O_DIRECT is
// refused (tmpfs on older kernels).
func TestDirectFileWritesEveryPiece(t *testing.T) {
	dirs := []string{t.TempDir()}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		shm, err := os.MkdirTemp("/dev/shm", "directfile")
		if err == nil {
			defer os.RemoveAll(shm)
			dirs = append(dirs, shm)
		}
	}
	want := make([]byte, 5<<20+1234)
	rand.NewChaCha8([32]byte{9}).Read(want)
	type piece struct{ off, end int }
	var pieces []piece
	for off := 0; off < len(want); {
		// 1 MiB, 256 KiB and odd sizes, as chunkers make.
		n := []int{1 << 20, 256 << 10, 1000, 4096}[len(pieces)%4]
		end := min(off+n, len(want))
		pieces = append(pieces, piece{off, end})
		off = end
	}
	for _, dir := range dirs {
		f, err := os.Create(filepath.Join(dir, "out"))
		if err != nil {
			t.Fatal(err)
		}
		d := newDirectFile(f)
		direct := d.direct
		var wg sync.WaitGroup
		for i, p := range pieces {
			wg.Go(func() {
				src := want[p.off:p.end]
				if i%3 == 0 {
					// Memory off the alignment.
					src = append(make([]byte, 1, len(src)+1), src...)[1:]
				}
				if _, err := d.WriteAt(src, int64(p.off)); err != nil {
					t.Errorf("piece at %d: %v", p.off, err)
				}
			})
		}
		wg.Wait()
		if err := d.Finish(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, err := os.ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: file of %d bytes differs from the %d written (direct %v)", dir, len(got), len(want), d.direct)
		}
		t.Logf("%s: O_DIRECT set: %v", dir, direct)
	}
}
