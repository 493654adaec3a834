package content

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/mount"
	"github.com/ipfs/go-datastore/namespace"
	dssync "github.com/ipfs/go-datastore/sync"
	flatfs "github.com/ipfs/go-ds-flatfs"
	pebbleds "github.com/ipfs/go-ds-pebble"

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
func OpenDatastore(dir string, durable bool) (datastore.Batching, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("content: create datastore %s: %w", dir, err)
	}
	meta, err := pebbleds.NewDatastore(filepath.Join(dir, metaDir))
	if err != nil {
		return nil, fmt.Errorf("content: open datastore %s: %w", dir, err)
	}
	blocks, err := openBlocks(dir, meta)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("content: open block store %s: %w", dir, err), meta.Close())
	}
	ds := mount.New([]mount.Mount{
		{Prefix: datastore.NewKey(blocksPrefix), Datastore: blocks},
		{Prefix: datastore.NewKey("/"), Datastore: meta},
	})
	if !durable {
		return ds, nil
	}
	return &durableStore{Batching: ds}, nil
}

// openBlocks opens the block store: flatfs if the repo already has one,
// packs otherwise. Its Sync makes the blocks written so far durable.
func openBlocks(dir string, meta datastore.Batching) (datastore.Batching, error) {
	legacy := filepath.Join(dir, blocksDir)
	if _, err := os.Stat(filepath.Join(legacy, "SHARDING")); err == nil {
		fs, err := flatfs.Open(legacy, false)
		if err != nil {
			return nil, err
		}
		s, err := newSyncfsStore(fs, legacy)
		if err != nil {
			return nil, errors.Join(err, fs.Close())
		}
		return s, nil
	}
	return packstore.Open(filepath.Join(dir, packsDir), namespace.Wrap(meta, datastore.NewKey(packIndexPrefix)), packstore.Options{})
}

// NewMemoryDatastore returns an empty in-memory datastore, safe for
// concurrent use, for tests and for a node that keeps nothing.
func NewMemoryDatastore() datastore.Batching {
	return dssync.MutexWrap(datastore.NewMapDatastore())
}
