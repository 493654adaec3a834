package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-datastore/query"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/peer"
)

// A few rounds of scripts/crashloop.sh: adds, unpins and collections
// (which compact the packs) killed with SIGKILL at random moments, then
// a restart, repo verify, repo stat against what verify read, and every
// add that had returned read back. `scripts/crashloop.sh --rounds 50` is
// the long run.
func TestCrashLoopRounds(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("needs bash")
	}
	cmd := exec.CommandContext(t.Context(), "bash", "scripts/crashloop.sh",
		"--rounds", "3", "--bin", cairnBin, "--dir", t.TempDir(), "--max-kib", "2048")
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("crashloop: %v", err)
	}
	if !strings.Contains(string(out), "crashloop: 3 rounds, 0 with damage") {
		t.Fatal("crashloop did not report 3 rounds without damage")
	}
}

// repoStat reads NumObjects and RepoSize from `cairn repo stat`.
func repoStat(t *testing.T, repo string) (objects, size uint64) {
	t.Helper()
	for line := range strings.Lines(cairnOK(t, "repo", "stat", "--repo", repo)) {
		if v, ok := strings.CutPrefix(line, "NumObjects:"); ok {
			objects, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "RepoSize:"); ok {
			size, _ = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return objects, size
}

// After a SIGKILL in the middle of adds, and adds, a collection and its
// compaction since the restart, repo stat counts what a recount of the
// stopped repo finds.
func TestRepoStatAgreesWithARecountAfterSIGKILL(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	addFile(t, d.repo, randomData(t, 3<<20))
	addFile(t, d.repo, randomData(t, 2<<20), "--pin=false")
	add := exec.Command(cairnBin, "add", "--repo", d.repo, "-q", "-")
	stdin, err := add.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := add.Start(); err != nil {
		t.Fatal(err)
	}
	baseline := repoObjects(t, d.repo)
	deadline := time.Now().Add(60 * time.Second)
	for repoObjects(t, d.repo) < baseline+5 && time.Now().Before(deadline) {
		if _, err := stdin.Write(randomData(t, 1<<20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.proc.Process().Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.proc.Exited()
	stdin.Close()
	_ = add.Wait()

	d2 := startDaemon(t, d.repo)
	addFile(t, d2.repo, randomData(t, 1<<20))
	addFile(t, d2.repo, randomData(t, 4<<20), "--pin=false")
	cairnOK(t, "repo", "gc", "--repo", d2.repo)
	addFile(t, d2.repo, randomData(t, 1<<20), "--pin=false")
	objects, size := repoStat(t, d2.repo)
	d2.stop(t)

	ds, err := content.OpenDatastore(filepath.Join(d2.repo, peer.DatastoreDir), false)
	if err != nil {
		t.Fatal(err)
	}
	defer ds.Close()
	res, err := ds.Query(context.Background(), query.Query{Prefix: "/blocks", KeysOnly: true, ReturnsSizes: true})
	if err != nil {
		t.Fatal(err)
	}
	var n, bytes uint64
	for r := range res.Next() {
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		n, bytes = n+1, bytes+uint64(r.Size)
	}
	if n != objects || bytes != size {
		t.Fatalf("repo stat said %d blocks of %d bytes; a recount finds %d of %d", objects, size, n, bytes)
	}
}
