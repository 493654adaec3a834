package interop

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Bitswap both ways between a Kubo node and a Cairn peer that are
// connected: multi-block files (1 MiB chunks) and a nested directory,
// compared byte for byte.
func TestBitswap(t *testing.T) {
	t.Parallel()
	k := startKubo(t)
	c := startCairn(t)
	k.ok(t, 30*time.Second, "swarm", "connect", c.swarm[0])

	t.Run("kubo_cats_file_added_on_cairn", func(t *testing.T) {
		path, want := randomFile(t, 5<<20+17)
		root := lastLine(c.ok(t, time.Minute, "add", "-q", path))
		got := k.ok(t, 2*time.Minute, "cat", "--timeout=90s", root)
		if s := sha([]byte(got)); s != want {
			t.Fatalf("ipfs cat %s: %d bytes, SHA-256 %s, want %s", root, len(got), s, want)
		}
	})

	t.Run("cairn_cats_file_added_on_kubo", func(t *testing.T) {
		path, want := randomFile(t, 5<<20+17)
		root := lastLine(k.ok(t, time.Minute, "add", "-Q", path))
		got := c.ok(t, 2*time.Minute, "cat", "--timeout", "90s", root)
		if s := sha([]byte(got)); s != want {
			t.Fatalf("cairn cat %s: %d bytes, SHA-256 %s, want %s", root, len(got), s, want)
		}
	})

	t.Run("cairn_cats_empty_file_added_on_kubo", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		root := lastLine(k.ok(t, time.Minute, "add", "-Q", path))
		if got, errOut, code := c.run(t, time.Minute, "cat", "--timeout", "30s", root); code != 0 || got != "" {
			t.Fatalf("cairn cat %s (empty file): exit %d, %d bytes: %s", root, code, len(got), oneLine(errOut))
		}
	})

	t.Run("cairn_gets_directory_added_on_kubo", func(t *testing.T) {
		dir := nestedDir(t, true)
		root := lastLine(k.ok(t, time.Minute, "add", "-r", "-Q", dir))
		out := filepath.Join(t.TempDir(), "copy")
		c.ok(t, 2*time.Minute, "get", "--timeout", "90s", "-o", out, root)
		sameTree(t, dir, out)
	})

	t.Run("kubo_gets_directory_added_on_cairn", func(t *testing.T) {
		if ok, why := cairnAddsDirectories(t); !ok {
			t.Fatal(why)
		}
		dir := nestedDir(t, false)
		root := lastLine(c.ok(t, time.Minute, "add", "-r", "-q", dir))
		out := filepath.Join(t.TempDir(), "copy")
		k.ok(t, 2*time.Minute, "get", "--timeout=90s", "-o", out, root)
		if _, err := os.Stat(out); err != nil {
			t.Fatal(err)
		}
		sameTree(t, dir, out)
	})
}
