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
