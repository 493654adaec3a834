//go:build !linux

package packstore

import (
	"errors"
	"os"
	"syscall"
)

// directFlag is zero where direct I/O is not opened by a flag: the store
// then uses buffered I/O.
const directFlag = 0

func datasync(f *os.File) error { return f.Sync() }

func newWriteBuffer(n int) ([]byte, error) { return alignedBuf(n), nil }

func freeWriteBuffer([]byte) error { return nil }

// freeSpace is not known here.
func freeSpace(string) (uint64, error) { return unknownFree, nil }

// errNoSpace is the error of a write the device had no room for.
const errNoSpace = syscall.ENOSPC

func punchHole(*os.File, int64, int64) error { return errors.ErrUnsupported }
