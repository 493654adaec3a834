// Package loopfs runs a test inside a mount namespace of its own with a
// small ext4 file system mounted there from a loop device, so that a test
// can fill a disk for real (ENOSPC, as on a full disk) without touching
// the machine's. The mount and the loop device go away with the namespace.
// It is test support, not part of Cairn's API; like netnstest, it
// re-executes the test binary inside the namespace.
package loopfs

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// insideEnv carries the mount point to the re-run test process that is
// already inside the namespace.
const insideEnv = "CAIRN_TEST_LOOPFS"

// Run re-runs the calling test inside a new mount namespace in which an
// ext4 file system of size bytes (no blocks reserved for root) is mounted.
// In the parent it returns inside=false once the child is done, the
// child's result reported as the parent's; in the child it returns the
// mount point and inside=true, and the test goes on there. It needs root
// (loop devices), unshare(1) and mount(8); mkfs.ext4 is installed with
// apt-get on first use when missing. Where these cannot be had, the test
// is skipped with the reason.
func Run(t *testing.T, size int64) (dir string, inside bool) {
	t.Helper()
	if dir := os.Getenv(insideEnv); dir != "" {
		return dir, true
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root for a loop device")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs a mount namespace: unshare(1) not found")
	}
	mkfs := mkfsExt4(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := makeImage(mkfs, img, size); err != nil {
		t.Fatal(err)
	}
	// A mount in a namespace that ends at once: may loop devices be had?
	probe := exec.CommandContext(t.Context(), unshare, "-m", "--propagation", "private", "mount", "-o", "loop", img, mnt)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("cannot mount a loop device here: %v %s", err, strings.TrimSpace(string(out)))
	}
	script := `mount -o loop "$1" "$2" && shift 2 && exec "$0" "$@"`
	args := []string{"-m", "--propagation", "private", "sh", "-c", script,
		os.Args[0], img, mnt, "-test.run=^" + t.Name() + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(t.Context(), unshare, args...)
	cmd.Env = append(os.Environ(), insideEnv+"="+mnt)
	out, err := cmd.CombinedOutput()
	t.Logf("inside the mount namespace:\n%s", out)
	if err != nil {
		t.Fatalf("test inside the mount namespace failed: %v", err)
	}
	return "", false
}

// makeImage makes an ext4 image of size bytes in img.
func makeImage(mkfs, img string, size int64) error {
	f, err := os.Create(img)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if out, err := exec.Command(mkfs, "-q", "-F", "-m", "0", img).CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4: %v: %s", err, out)
	}
	return nil
}

// mkfsExt4 finds mkfs.ext4, installing e2fsprogs with apt-get if it is
// missing.
func mkfsExt4(t *testing.T) string {
	t.Helper()
	find := func() string {
		for _, p := range []string{"mkfs.ext4", "/sbin/mkfs.ext4", "/usr/sbin/mkfs.ext4"} {
			if path, err := exec.LookPath(p); err == nil {
				return path
			}
		}
		return ""
	}
	if p := find(); p != "" {
		return p
	}
	apt, err := exec.LookPath("apt-get")
	if err != nil {
		t.Skip("needs mkfs.ext4, and apt-get is not here to install it")
	}
	cmd := exec.CommandContext(t.Context(), apt, "install", "-y", "-q", "e2fsprogs")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apt-get install e2fsprogs: %v\n%s", err, out)
	}
	p := find()
	if p == "" {
		t.Fatal("mkfs.ext4 still missing after installing e2fsprogs")
	}
	return p
}
