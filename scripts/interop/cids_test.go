package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Same bytes, same CID: Cairn's defaults follow IPIP-499's unixfs-v1-2025
// profile, and Kubo's repo here is initialised with that profile, so
// `cairn add` must print exactly what `ipfs add --only-hash` computes.
func TestSameCIDs(t *testing.T) {
	t.Parallel()
	k := newKuboRepo(t) // no daemon: --only-hash runs offline
	c := startCairn(t)

	files := []struct {
		name string
		size int64
		fill bool // random bytes; otherwise a sparse file of zeros
	}{
		{"0B", 0, true},
		{"1B", 1, true},
		{"1MiB", 1 << 20, true},
		{"1MiB+1B", 1<<20 + 1, true},
		// Sparse: 300 MiB of zeros that take no disk. Every leaf is the
		// same block, but the tree above them (300 links, one level) is
		// what is compared.
		{"300MiB_sparse", 300 << 20, false},
	}
	for _, f := range files {
		t.Run(f.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), f.name)
			if f.fill {
				if err := os.WriteFile(path, randomBytes(int(f.size)), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				sparseFile(t, path, f.size)
			}
			want := lastLine(k.ok(t, 2*time.Minute, "add", "--only-hash", "-Q", path))
			got := lastLine(c.ok(t, 2*time.Minute, "add", "-q", path))
			if got != want {
				t.Fatalf("%s: cairn add gives %s, ipfs add --only-hash gives %s", f.name, got, want)
			}
		})
	}

	t.Run("nested_directory", func(t *testing.T) {
		dir := nestedDir(t, true)
		want := lastLine(k.ok(t, 2*time.Minute, "add", "-r", "--only-hash", "-Q", dir))
		if ok, why := cairnAddsDirectories(t); !ok {
			t.Fatalf("%s (Kubo's CID would be %s)", why, want)
		}
		got := lastLine(c.ok(t, 2*time.Minute, "add", "-r", "-q", dir))
		if got != want {
			t.Fatalf("cairn add -r gives %s, ipfs add -r --only-hash gives %s", got, want)
		}
	})
}

func sparseFile(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}
