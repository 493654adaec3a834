package content

import (
	"fmt"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// OpenDatastore opens (creating if needed) the embedded pebble datastore in
// dir. The caller owns it and must Close it after every user (Content
// included) is closed; Close flushes pebble's memtables to disk.
//
// Writes do not fsync (pebble.NoSync, go-ds-pebble's default): a crash may
// lose the last writes, which re-adding or re-fetching repairs, and fsync on
// every block would cap imports at the disk's sync rate.
func OpenDatastore(dir string) (datastore.Batching, error) {
	d, err := pebbleds.NewDatastore(dir)
	if err != nil {
		return nil, fmt.Errorf("content: open datastore %s: %w", dir, err)
	}
	return d, nil
}

// NewMemoryDatastore returns an empty in-memory datastore, safe for
// concurrent use, for tests and for a node that keeps nothing.
func NewMemoryDatastore() datastore.Batching {
	return dssync.MutexWrap(datastore.NewMapDatastore())
}
