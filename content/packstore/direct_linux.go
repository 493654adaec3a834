package packstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// directFlag opens a file for direct I/O: reads and writes go between the
// device and our buffers, past the page cache.
const directFlag = unix.O_DIRECT

// datasync makes what was written to f durable.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// newWriteBuffer maps n bytes straight from the kernel for the buffer
// appends gather in: page-aligned as direct I/O wants, and resident only
// once written to, where a Go allocation reusing freed heap is zeroed
// whole and so adds its full size to an idle daemon's RSS at once
// (4 MiB: RSS split into two modes 4 MiB apart, run to run).
func newWriteBuffer(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
}

func freeWriteBuffer(b []byte) error { return unix.Munmap(b) }

// freeSpace is the bytes an unprivileged writer may still use in dir's
// file system.
func freeSpace(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// errNoSpace is the error of a write the device had no room for.
const errNoSpace = unix.ENOSPC

// punchHole frees the space of n bytes at off in f, keeping its size.
func punchHole(f *os.File, off, n int64) error {
	return unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n)
}
