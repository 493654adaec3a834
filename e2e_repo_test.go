package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/peer"
)

// addFile writes data to a temporary file, adds it with args, and returns
// its CID.
func addFile(t *testing.T, repo string, data []byte, args ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(cairnOK(t, append([]string{"add", "--repo", repo, "-q", file}, args...)...))
}

func randomData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// rawCID is the CIDv1 raw of s's multihash, the name the blockstore
// gives a block.
func rawCID(t *testing.T, s string) string {
	t.Helper()
	c, err := cid.Decode(s)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, c.Hash()).String()
}

// repoObjects reads NumObjects from `cairn repo stat`.
func repoObjects(t *testing.T, repo string) int {
	t.Helper()
	for line := range strings.Lines(cairnOK(t, "repo", "stat", "--repo", repo)) {
		if v, ok := strings.CutPrefix(line, "NumObjects:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				t.Fatalf("NumObjects %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatal("repo stat printed no NumObjects")
	return 0
}

// Pins decide what a collection keeps: added files are pinned, --pin=false
// ones are not, pin add and pin rm change that, and the repo stat follows.
func TestPinsAndGCEndToEnd(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	kept, loose, later := randomData(t, 3<<20), randomData(t, 2<<20), randomData(t, 1<<20)
	keptCID := addFile(t, d.repo, kept)
	looseCID := addFile(t, d.repo, loose, "--pin=false")
	laterCID := addFile(t, d.repo, later, "--pin=false")
	if out := cairnOK(t, "pin", "add", "--repo", d.repo, laterCID); out != "pinned "+laterCID+" recursively\n" {
		t.Fatalf("pin add printed %q", out)
	}
	if out := cairnOK(t, "pin", "ls", "--repo", d.repo, "--type", "recursive"); !strings.Contains(out, keptCID+" recursive") ||
		!strings.Contains(out, laterCID+" recursive") || strings.Contains(out, looseCID) {
		t.Fatalf("pin ls --type recursive:\n%s", out)
	}
	before := repoObjects(t, d.repo)

	// GC names blocks as the store keys them, by multihash: CIDv1 raw.
	gcOut := cairnOK(t, "repo", "gc", "--repo", d.repo)
	if !strings.Contains(gcOut, "removed "+rawCID(t, looseCID)+"\n") {
		t.Fatalf("repo gc did not remove the unpinned root %s:\n%s", looseCID, gcOut)
	}
	for _, keep := range []string{keptCID, laterCID} {
		if strings.Contains(gcOut, rawCID(t, keep)) {
			t.Fatalf("repo gc removed pinned %s", keep)
		}
	}
	removed := strings.Count(gcOut, "removed ")
	if after := repoObjects(t, d.repo); after != before-removed {
		t.Fatalf("NumObjects %d before, %d after removing %d", before, after, removed)
	}
	if got := cairnOK(t, "cat", "--repo", d.repo, keptCID); sha([]byte(got)) != sha(kept) {
		t.Fatal("pinned file changed after gc")
	}
	if got := cairnOK(t, "cat", "--repo", d.repo, laterCID); sha([]byte(got)) != sha(later) {
		t.Fatal("file pinned with pin add changed after gc")
	}
	if _, _, code := cairn(t, "cat", "--repo", d.repo, "--timeout", "1s", looseCID); code == 0 {
		t.Fatal("the collected file can still be read")
	}

	cairnOK(t, "pin", "rm", "--repo", d.repo, keptCID, laterCID)
	if out := cairnOK(t, "pin", "ls", "--repo", d.repo); out != "" {
		t.Fatalf("pin ls after pin rm: %q", out)
	}
	cairnOK(t, "repo", "gc", "--repo", d.repo)
	if n := repoObjects(t, d.repo); n != 0 {
		t.Fatalf("%d blocks left after unpinning everything and collecting", n)
	}
}

// A DAG exported from one daemon imports into another, verified and
// pinned; a CAR with one altered byte is refused and leaves nothing.
func TestDagExportImportEndToEnd(t *testing.T) {
	a := startDaemon(t, newRepo(t))
	b := startDaemon(t, newRepo(t))
	data := randomData(t, 3<<20+5)
	root := addFile(t, a.repo, data)
	car := cairnOK(t, "dag", "export", "--repo", a.repo, root)
	carFile := filepath.Join(t.TempDir(), "x.car")
	if err := os.WriteFile(carFile, []byte(car), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := cairnOK(t, "dag", "import", "--repo", b.repo, carFile); out != "Pinned root\t"+root+"\tsuccess\n" {
		t.Fatalf("dag import printed %q", out)
	}
	if got := cairnOK(t, "cat", "--repo", b.repo, "--timeout", "5s", root); sha([]byte(got)) != sha(data) {
		t.Fatal("the imported DAG does not read back as the file")
	}
	if out := cairnOK(t, "pin", "ls", "--repo", b.repo, root); out != root+" recursive\n" {
		t.Fatalf("imported root not pinned: %q", out)
	}

	tampered := []byte(car)
	// A byte of the second leaf: the root and first leaf before it are
	// sound, so a naive import would have stored them.
	i := bytes.Index(tampered, data[1<<20+100:1<<20+200])
	if i < 0 {
		t.Fatal("the file's bytes are not in the CAR")
	}
	tampered[i] ^= 1
	badFile := filepath.Join(t.TempDir(), "bad.car")
	if err := os.WriteFile(badFile, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	c := startDaemon(t, newRepo(t))
	_, stderr, code := cairn(t, "dag", "import", "--repo", c.repo, badFile)
	checkOneLineError(t, stderr, code, "hash mismatch")
	if n := repoObjects(t, c.repo); n != 0 {
		t.Fatalf("a refused CAR left %d blocks", n)
	}
}

// A block overwritten on disk behind a stopped daemon's back is found by
// repo verify.
func TestRepoVerifyFindsCorruptBlockOnDisk(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	root := addFile(t, d.repo, randomData(t, 2<<20))
	if out := cairnOK(t, "repo", "verify", "--repo", d.repo); !strings.Contains(out, "all") {
		t.Fatalf("repo verify on a sound repo: %q", out)
	}
	d.stop(t)

	rootCID, err := cid.Decode(root)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := content.OpenDatastore(filepath.Join(d.repo, peer.DatastoreDir), false)
	if err != nil {
		t.Fatal(err)
	}
	key := datastore.NewKey("/blocks").Child(dshelp.MultihashToDsKey(rootCID.Hash()))
	if err := ds.Put(context.Background(), key, []byte("bit rot")); err != nil {
		t.Fatal(err)
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}

	d2 := startDaemon(t, d.repo)
	stdout, stderr, code := cairn(t, "repo", "verify", "--repo", d2.repo)
	if want := "corrupt " + rawCID(t, root) + "\n"; stdout != want {
		t.Fatalf("repo verify printed %q, want %q", stdout, want)
	}
	checkOneLineError(t, stderr, code, "1 of")
}

// A daemon killed with SIGKILL half-way through an add comes back with a
// consistent repo: the add left no pin, every block verifies, the earlier
// file is whole, and the partial add's blocks are garbage a GC removes.
func TestSIGKILLDuringAddLeavesConsistentRepo(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	earlier := randomData(t, 2<<20)
	earlierCID := addFile(t, d.repo, earlier)
	baseline := repoObjects(t, d.repo)

	// Feed the add through a pipe that is never closed, so it is still
	// running, blocks already on disk, when the daemon dies.
	stdin, feed := io.Pipe()
	add := exec.Command(cairnBin, "add", "--repo", d.repo, "-q", "-")
	add.Stdin = stdin
	if err := add.Start(); err != nil {
		t.Fatal(err)
	}
	addDone := make(chan error, 1)
	go func() { addDone <- add.Wait() }()
	go func() {
		buf := make([]byte, 1<<20)
		for {
			rand.Read(buf)
			if _, err := feed.Write(buf); err != nil {
				return // the add is gone
			}
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for repoObjects(t, d.repo) < baseline+10 {
		if time.Now().After(deadline) {
			t.Fatal("the add wrote no block within 60s")
		}
		select {
		case err := <-addDone:
			t.Fatalf("the add ended before the kill: %v", err)
		case <-time.After(50 * time.Millisecond): // poll interval
		}
	}
	if err := d.proc.Process().Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.proc.Exited()
	feed.Close()
	if err := <-addDone; err == nil {
		t.Fatal("the add succeeded although its daemon was killed")
	}

	d2 := startDaemon(t, d.repo)
	if out := cairnOK(t, "pin", "ls", "--repo", d2.repo, "--type", "recursive"); out != earlierCID+" recursive\n" {
		t.Fatalf("pins after the kill: %q, want only %s", out, earlierCID)
	}
	if out := cairnOK(t, "repo", "verify", "--repo", d2.repo); !strings.Contains(out, "all") {
		t.Fatalf("repo verify after the kill: %q", out)
	}
	// The datastore does not fsync, so the partial add's last writes may
	// be lost with the process; whatever of it survived is unpinned
	// garbage, and a collection takes exactly that.
	survived := repoObjects(t, d2.repo) - baseline
	removed := strings.Count(cairnOK(t, "repo", "gc", "--repo", d2.repo), "removed ")
	t.Logf("%d blocks of the killed add survived; gc removed %d", survived, removed)
	if removed != survived {
		t.Fatalf("gc removed %d blocks, want the %d the killed add left", removed, survived)
	}
	if n := repoObjects(t, d2.repo); n != baseline {
		t.Fatalf("NumObjects %d after gc, want %d, the earlier file's", n, baseline)
	}
	if got := cairnOK(t, "cat", "--repo", d2.repo, earlierCID); sha([]byte(got)) != sha(earlier) {
		t.Fatal("the earlier file changed")
	}
	cairnOK(t, "repo", "verify", "--repo", d2.repo)
}

// With content.storage_max set, an add that would pass it fails with one
// clear line, and repo stat shows the limit.
func TestStorageMaxEndToEnd(t *testing.T) {
	repo := newRepo(t)
	cfg := testRepoConfig + "content:\n  storage_max: 4194304\n"
	if err := os.WriteFile(filepath.Join(repo, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, repo)
	addFile(t, d.repo, randomData(t, 3<<20))
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, randomData(t, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cairn(t, "add", "--repo", d.repo, file)
	checkOneLineError(t, stderr, code, "storage limit reached")
	if out := cairnOK(t, "repo", "stat", "--repo", d.repo); !strings.Contains(out, "StorageMax: 4194304\n") {
		t.Fatalf("repo stat:\n%s", out)
	}
}

// Adds through the CLI while `repo gc` runs over and over: every pinned
// add reads back whole, and a last collection takes every unpinned one.
func TestGCDuringAddsEndToEnd(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	type added struct {
		cid  string
		data []byte
		pin  bool
	}
	results := make(chan added, 12)
	var adds sync.WaitGroup
	for a := range 4 {
		adds.Go(func() {
			for i := range 3 {
				data := randomData(t, 1<<20+a*4096+i)
				pin := i != 1
				file := filepath.Join(t.TempDir(), "f.bin")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Error(err)
					return
				}
				out, stderr, code := cairn(t, "add", "--repo", d.repo, "-q", "--pin="+strconv.FormatBool(pin), file)
				if code != 0 {
					t.Errorf("add during gc: %s", stderr)
					return
				}
				results <- added{strings.TrimSpace(out), data, pin}
			}
		})
	}
	addsDone := make(chan struct{})
	go func() { adds.Wait(); close(addsDone); close(results) }()
	runs := 0
	for collecting := true; collecting; runs++ {
		select {
		case <-addsDone:
			collecting = false
		default:
		}
		cairnOK(t, "repo", "gc", "--repo", d.repo, "-q")
	}
	t.Logf("%d collections ran during 12 adds", runs)
	var all []added
	for a := range results {
		all = append(all, a)
	}
	if len(all) != 12 {
		t.Fatalf("%d of 12 adds succeeded", len(all))
	}
	cairnOK(t, "repo", "gc", "--repo", d.repo)
	for _, a := range all {
		got, _, code := cairn(t, "cat", "--repo", d.repo, "--timeout", "1s", a.cid)
		switch {
		case a.pin && (code != 0 || sha([]byte(got)) != sha(a.data)):
			t.Errorf("pinned %s does not read back after gc", a.cid)
		case !a.pin && code == 0:
			t.Errorf("unpinned %s still readable after the final gc", a.cid)
		}
	}
	cairnOK(t, "repo", "verify", "--repo", d.repo)
}
