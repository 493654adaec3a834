package content

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/mount"
	"github.com/ipfs/go-datastore/namespace"
	dssync "github.com/ipfs/go-datastore/sync"
	flatfs "github.com/ipfs/go-ds-flatfs"
	pebbleds "github.com/ipfs/go-ds-pebble"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairnnet/cairn/content/packstore"
)

// Where OpenDatastore keeps its stores inside the datastore directory.
const (
	packsDir  = "packs"  // blocks, many to a file (content/packstore)
	blocksDir = "blocks" // blocks as one file each (flatfs), in repos made before packs
	metaDir   = "meta"   // pebble: pins, provider queue, DHT records, counters, the packs' index
)

// packIndexPrefix is where, in the meta store, the packs' index lives.
const packIndexPrefix = "/packindex"

// OpenDatastore opens (creating if needed) the node's embedded datastore in
// dir: blocks in pack files under dir/packs (a repo made before packs keeps
// its flatfs under dir/blocks), every other key — the packs' index too —
// in a pebble store under dir/meta, mounted together as one datastore. The
// caller owns it and must Close it after every user (Content included) is
// closed.
//
// Why blocks are not in pebble: measured on the 2-core development machine
// (go test ./content -bench AddGet, 512 MiB, medians of 2), importing into
// pebble alone ran at about 100 MB/s — each 1 MiB block is written to the
// WAL, flushed, then rewritten by compactions and compressed. Why packs
// rather than flatfs (a file per block, as Kubo keeps them): see the
// packstore package; storing was most of a fetching daemon's CPU.
//
// Memory: pebble is the largest single part of an idle daemon's RSS, and
// it is code, not data. Measured on the same machine (empty repo, loopback
// only, VmRSS 5 s after start, binary not just written by go build,
// medians of 4 or more): 46.5 MiB with pebble, 38.2 MiB with no on-disk
// meta store linked, 40.2 MiB with go-ds-leveldb (1 MiB write buffer and
// cache); the difference is the pages of pebble and what it pulls in
// (cockroachdb/errors, sentry-go, gogo protobuf, cgo zstd) mapped at init
// and Open. Its block cache and memtable fill lazily: setting both to
// 1 MiB changed neither idle RSS (within ±0.4 MiB) nor add throughput,
// so pebble keeps its defaults.
//
// With durable, blocks are flushed to disk before any pin record is
// written (see durableStore), so what a user added or pinned survives a
// power loss.
//
// Integrity at rest: packs check each block's CRC-32C on every read (see
// the packstore package), so the blockstore does not re-hash what it
// serves; entries from before checksums are re-hashed on their first read
// and their checksum recorded then. A flatfs repo has no checksums: its
// blocks are re-hashed on every read, as before.
func OpenDatastore(dir string, durable bool) (datastore.Batching, error) {
	return openDatastore(dir, durable, nil, packstore.Options{})
}

// openDatastore is OpenDatastore on fs (pebble's file system interface),
// or on the machine's file system when fs is nil, with packOpts for the
// packs. Tests pass a crashable memory FS to cut the power under a running
// repo, and small packs.
func openDatastore(dir string, durable bool, fs vfs.FS, packOpts packstore.Options) (datastore.Batching, error) {
	var pebbleOpts []pebbleds.Option
	mkdir := func(dir string) error { return os.MkdirAll(dir, 0o700) }
	if fs != nil {
		pebbleOpts = append(pebbleOpts, pebbleds.WithPebbleOpts(&pebble.Options{FS: fs}))
		packOpts.FS = packstore.VFS(fs)
		mkdir = func(dir string) error { return fs.MkdirAll(dir, 0o700) }
	}
	if err := mkdir(dir); err != nil {
		return nil, fmt.Errorf("content: create datastore %s: %w", dir, err)
	}
	meta, err := pebbleds.NewDatastore(filepath.Join(dir, metaDir), pebbleOpts...)
	if err != nil {
		return nil, fmt.Errorf("content: open datastore %s: %w", dir, err)
	}
	blocks, err := openBlocks(dir, meta, fs == nil, packOpts)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("content: open block store %s: %w", dir, err), meta.Close())
	}
	if err := syncDirs(fs, dir); err != nil {
		return nil, errors.Join(fmt.Errorf("content: sync datastore %s: %w", dir, err), blocks.Close(), meta.Close())
	}
	ds := &repoStore{Datastore: mount.New([]mount.Mount{
		{Prefix: datastore.NewKey(blocksPrefix), Datastore: blocks},
		{Prefix: datastore.NewKey("/"), Datastore: meta},
	})}
	ds.packs, _ = blocks.(*packstore.Store)
	if !durable {
		return ds, nil
	}
	return &durableStore{Batching: ds}, nil
}

// openBlocks opens the block store: flatfs if the repo already has one
// (looked for only when legacy is set), packs otherwise. Its Sync makes
// the blocks written so far durable.
func openBlocks(dir string, meta datastore.Batching, legacy bool, opts packstore.Options) (datastore.Batching, error) {
	flat := filepath.Join(dir, blocksDir)
	if _, err := os.Stat(filepath.Join(flat, "SHARDING")); legacy && err == nil {
		fs, err := flatfs.Open(flat, false)
		if err != nil {
			return nil, err
		}
		s, err := newSyncfsStore(fs, flat)
		if err != nil {
			return nil, errors.Join(err, fs.Close())
		}
		return s, nil
	}
	opts.Verify = verifyBlockKey
	return packstore.Open(filepath.Join(dir, packsDir), namespace.Wrap(meta, datastore.NewKey(packIndexPrefix)), opts)
}

// syncDirs makes the datastore's directories durable, as a new
// directory's name is only once its parent is synced: dir (holding the
// stores' directories) and its parent.
func syncDirs(fs vfs.FS, dir string) error {
	if fs == nil {
		fs = vfs.Default
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		f, err := fs.OpenDir(d)
		if err != nil {
			return err
		}
		if err := errors.Join(f.Sync(), f.Close()); err != nil {
			return err
		}
	}
	return nil
}

// repoStore is the datastore OpenDatastore returns: the mount of the
// block store and the rest, which keeps a handle on the packs for what
// only they can do.
type repoStore struct {
	*mount.Datastore
	packs *packstore.Store // nil for a flatfs repo
}

// packsOf returns the packs under ds, or nil if ds keeps its blocks some
// other way.
func packsOf(ds datastore.Datastore) *packstore.Store {
	if d, ok := ds.(*durableStore); ok {
		ds = d.Batching
	}
	if r, ok := ds.(*repoStore); ok {
		return r.packs
	}
	return nil
}

// verifyBlockKey checks a block's bytes against the multihash its key
// names, for the packs' entries from before checksums.
func verifyBlockKey(key string, value []byte) error {
	h, err := dshelp.DsKeyToMultihash(datastore.RawKey(key))
	if err != nil {
		return fmt.Errorf("block key %s: %w", key, err)
	}
	dec, err := mh.Decode(h)
	if err != nil {
		return fmt.Errorf("block key %s: %w", key, err)
	}
	got, err := mh.Sum(value, dec.Code, dec.Length)
	if errors.Is(err, mh.ErrSumNotSupported) {
		return nil // not checkable here, and so never checked on the way in either
	}
	if err != nil {
		return err
	}
	if !bytes.Equal(got, h) {
		return errors.New("hash mismatch")
	}
	return nil
}

// NewMemoryDatastore returns an empty in-memory datastore, safe for
// concurrent use, for tests and for a node that keeps nothing.
func NewMemoryDatastore() datastore.Batching {
	return dssync.MutexWrap(datastore.NewMapDatastore())
}
