package packstore

import (
	"errors"
	"math"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// VFS adapts one of pebble's file systems for a Store. Tests use it with
// vfs.NewCrashableMem, whose CrashClone keeps only what was synced, to cut
// the power under a running store (and under a pebble index on the same
// FS). It never does direct I/O.
func VFS(fs vfs.FS) FS { return vfsFS{fs} }

type vfsFS struct{ fs vfs.FS }

// MkdirAll makes dir and its parents.
func (v vfsFS) MkdirAll(dir string) error { return v.fs.MkdirAll(dir, 0o700) }

// List returns the files in dir with their sizes.
func (v vfsFS) List(dir string) (map[string]int64, error) {
	names, err := v.fs.List(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(names))
	for _, name := range names {
		info, err := v.fs.Stat(v.fs.PathJoin(dir, name))
		if err != nil {
			continue // removed since the listing
		}
		if !info.IsDir() {
			out[name] = info.Size()
		}
	}
	return out, nil
}

// Create makes a new file for writing.
func (v vfsFS) Create(name string, _ bool) (File, error) {
	if _, err := v.fs.Stat(name); err == nil {
		return nil, errors.New("packstore: " + name + " exists")
	}
	return v.fs.Create(name, vfs.WriteCategoryUnspecified)
}

// Open opens a file for reading.
func (v vfsFS) Open(name string, _ bool) (File, error) { return v.fs.Open(name) }

// Remove removes a file.
func (v vfsFS) Remove(name string) error { return v.fs.Remove(name) }

// SyncDir makes dir's entries durable.
func (v vfsFS) SyncDir(dir string) error {
	d, err := v.fs.OpenDir(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// Free reports the bytes that may still be written.
func (v vfsFS) Free(dir string) (uint64, error) {
	u, err := v.fs.GetDiskUsage(dir)
	if errors.Is(err, vfs.ErrUnsupported) {
		return math.MaxUint64, nil
	}
	return u.AvailBytes, err
}

// DirectIO reports whether direct I/O works in dir.
func (vfsFS) DirectIO(string) bool { return false }

// PunchHoles frees the given spans of a file.
func (vfsFS) PunchHoles(string, []span) error { return errors.ErrUnsupported }
