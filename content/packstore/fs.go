package packstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
)

// FS is the file system a Store keeps its packs in: the machine's by
// default, or, in tests, one that fails writes or loses what was not
// synced (see VFS).
type FS interface {
	MkdirAll(dir string) error
	// List returns the names of the files in dir with their sizes.
	List(dir string) (map[string]int64, error)
	// Create makes a new file for writing; it fails if name exists.
	Create(name string, direct bool) (File, error)
	// Open opens a file for reading.
	Open(name string, direct bool) (File, error)
	Remove(name string) error
	// SyncDir makes the creation and removal of dir's files durable.
	SyncDir(dir string) error
	// Free is how many bytes may still be written to dir's file system
	// (math.MaxUint64 where that is not known).
	Free(dir string) (uint64, error)
	// DirectIO reports whether files in dir take direct I/O.
	DirectIO(dir string) bool
	// PunchHoles frees the space of the given aligned spans of a file,
	// which then read as zeros, keeping its size; errors.ErrUnsupported
	// where the file system cannot.
	PunchHoles(name string, holes []span) error
}

// span is n bytes at off.
type span struct{ off, n int64 }

// File is an open pack file.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// SyncData makes what was written durable.
	SyncData() error
}

// osFS is the machine's file system.
type osFS struct{}

// MkdirAll makes dir and its parents.
func (osFS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o700) }

// List returns the files in dir with their sizes.
func (osFS) List(dir string) (map[string]int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		out[e.Name()] = info.Size()
	}
	return out, nil
}

// Create makes a new file for writing.
func (osFS) Create(name string, direct bool) (File, error) {
	return openOS(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, direct)
}

// Open opens a file for reading.
func (osFS) Open(name string, direct bool) (File, error) {
	return openOS(name, os.O_RDONLY, direct)
}

func openOS(name string, flag int, direct bool) (File, error) {
	if direct {
		flag |= directFlag
	}
	f, err := os.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Remove removes a file.
func (osFS) Remove(name string) error { return os.Remove(name) }

// SyncDir makes dir's entries durable.
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Free reports the bytes that may still be written.
func (osFS) Free(dir string) (uint64, error) { return freeSpace(dir) }

// DirectIO reports whether direct I/O works in dir.
func (osFS) DirectIO(dir string) bool { return directWorks(dir) }

// PunchHoles frees the given spans of a file.
func (osFS) PunchHoles(name string, holes []span) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	for _, h := range holes {
		if err := punchHole(f, h.off, h.n); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// osFile is a pack file of the machine's.
type osFile struct{ *os.File }

// SyncData makes what was written durable.
func (f osFile) SyncData() error { return datasync(f.File) }

// directWorks reports whether dir's filesystem takes direct I/O (tmpfs,
// for one, refuses it), by writing and reading back one aligned page.
func directWorks(dir string) bool {
	if directFlag == 0 {
		return false
	}
	name := filepath.Join(dir, "probe.tmp")
	defer os.Remove(name)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|directFlag, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := alignedBuf(align)
	if _, err := f.WriteAt(buf, 0); err != nil {
		return false
	}
	_, err = f.ReadAt(buf, 0)
	return err == nil
}

// unknownFree is what Free reports where the free space is not known.
const unknownFree = math.MaxUint64

// errFull is what a Store says when it refuses a write for want of space.
func errFull(free, reserve uint64) error {
	return fmt.Errorf("packstore: %w: %d bytes free, %d kept in reserve for the index and compaction", errNoSpace, free, reserve)
}
