package content

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cairnnet/cairn/internal/loopfs"
)

// A full disk, for real: a 160 MiB ext4 on a loop device in a mount
// namespace of the test's own. The add that meets the full disk fails
// with "no space left on device" and nothing added before is lost; verify
// works throughout; once another process has taken the rest of the disk,
// a collection still frees the space of what no pin keeps (dead packs
// removed, dead bytes freed in place), and adds go on without a restart,
// as they do once the space is given back. (Before, one failed write
// refused every later write until a restart, and the collection could not
// free space: compaction moved every victim's live data before removing
// any pack, and never touched the pack being appended to.)
func TestFullDiskFailsTheAddKeepsTheRestAndRecovers(t *testing.T) {
	mnt, inside := loopfs.Run(t, 160<<20)
	if !inside {
		return
	}
	// Minutes, not testTimeout: this test writes the disk full twice,
	// which a loaded machine under -race takes its time over.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	repo := filepath.Join(mnt, "repo")
	cfg := DefaultConfig()
	c, closeRepo := diskContent(t, repo, nil, nil, cfg)
	kept := randomBytes(6<<20, 40)
	keptFile := importBytes(t, c, kept, ImportOptions{CIDVersion: -1, Pin: true})

	// Unpinned adds until the disk is full.
	var loose []ImportResult
	var looseData [][]byte
	var addErr error
	for i := range 40 {
		data := randomBytes(6<<20, uint64(41+i))
		res, err := c.Import(ctx, bytes.NewReader(data), ImportOptions{CIDVersion: -1})
		if err != nil {
			addErr = err
			break
		}
		loose, looseData = append(loose, res), append(looseData, data)
	}
	if addErr == nil || !strings.Contains(addErr.Error(), "no space left on device") {
		t.Fatalf("the add that met the full disk: %v", addErr)
	}
	if len(loose) < 5 {
		t.Fatalf("only %d adds before the disk was full", len(loose))
	}
	t.Logf("%d adds of 6 MiB, then: %v", len(loose), addErr)
	wantReadable(t, c, keptFile.Cid, kept)
	for i, res := range loose {
		wantReadable(t, c, res.Cid, looseData[i])
	}
	wantSound(t, c)

	// Another process takes the rest of the disk.
	filler := fillDisk(t, mnt)
	if _, err := c.Import(ctx, bytes.NewReader(randomBytes(2<<20, 90)), ImportOptions{CIDVersion: -1, Pin: true}); err == nil ||
		!strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("an add on a disk full to the brim: %v", err)
	}
	wantSound(t, c)

	// A collection frees the loose files' space on the full disk.
	before := freeBytes(t, mnt)
	removed, err := c.GC(ctx, GCEvents{})
	if err != nil {
		t.Fatalf("GC on a full disk: %v", err)
	}
	freed := int64(freeBytes(t, mnt)) - int64(before)
	t.Logf("GC on the full disk removed %d blocks, freed %d MiB", removed, freed>>20)
	if freed < int64(len(loose))*6<<20/2 {
		t.Fatalf("GC on a full disk freed %d bytes of the %d no pin keeps", freed, len(loose)*6<<20)
	}
	later := randomBytes(4<<20, 91)
	laterFile := importBytes(t, c, later, ImportOptions{CIDVersion: -1, Pin: true})

	// Space given back: adds go on, and everything pinned survives a
	// restart whole.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	last := randomBytes(20<<20, 92)
	lastFile := importBytes(t, c, last, ImportOptions{CIDVersion: -1, Pin: true})
	closeRepo()
	c, _ = diskContent(t, repo, nil, nil, cfg)
	wantReadable(t, c, keptFile.Cid, kept)
	wantReadable(t, c, laterFile.Cid, later)
	wantReadable(t, c, lastFile.Cid, last)
	wantSound(t, c)
}

// wantSound runs Verify and wants no error and no damage.
func wantSound(t *testing.T, c *Content) {
	t.Helper()
	res, err := c.Verify(testContext(t), false, nil)
	if err != nil || len(res.Damaged) != 0 {
		t.Fatalf("Verify: %d of %d blocks damaged, %v", len(res.Damaged), res.Checked, err)
	}
}

// fillDisk writes a file in dir until the disk is full, and returns it.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	name := filepath.Join(dir, "filler")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = f.Sync()
	if free := freeBytes(t, dir); free > 1<<20 {
		t.Fatalf("%d bytes still free after filling the disk", free)
	}
	return name
}

func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}
