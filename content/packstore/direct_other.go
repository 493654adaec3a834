//go:build !linux

package packstore

import "os"

// directFlag is zero where direct I/O is not opened by a flag: the store
// then uses buffered I/O.
const directFlag = 0

func datasync(f *os.File) error { return f.Sync() }

func newWriteBuffer(n int) ([]byte, error) { return alignedBuf(n), nil }

func freeWriteBuffer([]byte) error { return nil }
