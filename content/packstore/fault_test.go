package packstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// faultFS is the machine's file system with writes and syncs that fail
// with ENOSPC while full is set, as on a full disk, and a free space it
// reports as set.
type faultFS struct {
	osFS
	full atomic.Bool
	free atomic.Uint64 // 0: the real figure
}

func (f *faultFS) Create(name string, direct bool) (File, error) {
	if f.full.Load() {
		return nil, fmt.Errorf("create %s: %w", name, syscall.ENOSPC)
	}
	file, err := f.osFS.Create(name, direct)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) Free(dir string) (uint64, error) {
	if n := f.free.Load(); n != 0 {
		return n, nil
	}
	return f.osFS.Free(dir)
}

type faultFile struct {
	File
	fs *faultFS
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.full.Load() {
		// A full disk takes part of a write, then refuses the rest.
		n, _ := f.File.WriteAt(p[:len(p)/2&^(align-1)], off)
		return n, syscall.ENOSPC
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) SyncData() error {
	if f.fs.full.Load() {
		return syscall.ENOSPC
	}
	return f.File.SyncData()
}

// When the disk fills, the put that finds it full fails with ENOSPC and
// nothing put before is lost: every value whose put succeeded still reads
// back, Sync fails (so nothing that depends on them is recorded), and
// once space returns, puts and Sync succeed again without a restart and a
// reopen finds every value. (Before, one failed write refused every later
// one until a restart, and dropped the values of the failed buffer.)
func TestFullDiskFailsThePutRecoversWhenSpaceReturns(t *testing.T) {
	modes(t, func(t *testing.T, direct bool) {
		ctx := context.Background()
		dir, index := t.TempDir(), newIndex()
		fsys := &faultFS{}
		opts := small(direct)
		opts.FS, opts.MaxPackSize = fsys, 1<<20
		s := open(t, dir, index, opts)
		want := make(map[datastore.Key][]byte)
		for i := range 5 {
			want[key(i)] = value(i, 1000)
			if err := s.Put(ctx, key(i), want[key(i)]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
			t.Fatal(err)
		}
		fsys.full.Store(true)
		var putErr error
		for i := 5; i < 200 && putErr == nil; i++ {
			v := value(i, 1000)
			if putErr = s.Put(ctx, key(i), v); putErr == nil {
				want[key(i)] = v
			}
		}
		if !errors.Is(putErr, syscall.ENOSPC) {
			t.Fatalf("puts on a full disk: %v, want ENOSPC", putErr)
		}
		checkAll(t, s, want)
		if err := s.Sync(ctx, datastore.NewKey("/")); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Sync on a full disk: %v", err)
		}
		if _, err := s.Query(ctx, query.Query{KeysOnly: true}); err != nil {
			t.Fatalf("a listing on a full disk: %v", err)
		}

		fsys.full.Store(false)
		for i := 1000; i < 1020; i++ {
			want[key(i)] = value(i, 1000)
			if err := s.Put(ctx, key(i), want[key(i)]); err != nil {
				t.Fatalf("put once space returned: %v", err)
			}
		}
		if err := s.Sync(ctx, datastore.NewKey("/")); err != nil {
			t.Fatalf("Sync once space returned: %v", err)
		}
		checkAll(t, s, want)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		r := open(t, dir, index, opts)
		defer r.Close()
		checkAll(t, r, want)
	})
}

// Puts are refused, before anything is written, while free space is
// under the reserve, and go on by themselves once it is back.
func TestPutsRefusedUnderTheReserve(t *testing.T) {
	ctx := context.Background()
	fsys := &faultFS{}
	opts := small(false)
	opts.FS, opts.Reserve = fsys, 1<<20
	s := open(t, t.TempDir(), newIndex(), opts)
	defer s.Close()
	if err := s.Put(ctx, key(1), value(1, 100)); err != nil {
		t.Fatal(err)
	}
	fsys.free.Store(1 << 20)
	// The free space is looked at once a buffer's worth was appended.
	var err error
	for i := 2; i < 100 && err == nil; i++ {
		err = s.Put(ctx, key(i), value(i, 1000))
	}
	if !errors.Is(err, syscall.ENOSPC) || !bytes.Contains([]byte(err.Error()), []byte("no space left on device")) {
		t.Fatalf("put under the reserve: %v", err)
	}
	fsys.free.Store(1 << 40)
	if err := s.Put(ctx, key(999), value(999, 1000)); err != nil {
		t.Fatalf("put once space returned: %v", err)
	}
}
