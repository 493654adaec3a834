package content

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/exchange"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// ErrStorageFull is matched (errors.Is) by the error of a write refused
// because it would take the blocks past Config.StorageMax.
var ErrStorageFull = errors.New("storage limit reached")

// blocksPrefix is where boxo's blockstore keeps blocks in the datastore.
const blocksPrefix = "/blocks"

// RepoStat describes what the blockstore holds.
type RepoStat struct {
	// NumObjects is the number of blocks stored.
	NumObjects uint64
	// RepoSize is the bytes of block data stored (keys and the datastore's
	// own overhead not included): what StorageMax limits.
	RepoSize uint64
	// StorageMax is Config.StorageMax; 0 means unlimited.
	StorageMax uint64
}

// sizedStore counts the blocks and bytes stored, so that RepoStat and the
// storage limit cost a counter read rather than a scan. The counts are
// exact at start-up, saved by the last clean Close or else counted by a
// scan (one pass over the blocks: pebble reads each value to size it);
// after it, writes and deletes adjust them. Two concurrent first writes
// of the same block may count it twice until the next scan: an
// over-estimate, which errs on the safe side of the limit.
type sizedStore struct {
	blockstore.GCBlockstore
	max uint64 // 0: no limit

	mu      sync.Mutex
	objects uint64
	bytes   uint64
}

// statKey holds the counters between a clean Close and the next start.
var statKey = datastore.NewKey("/cairn/repo-stat")

// savedStat is statKey's value.
type savedStat struct {
	Objects, Bytes uint64
}

// newSizedStore wraps bs, counting what ds already holds under /blocks:
// from the counters the last clean Close saved, or, after a crash (or on
// a repo that never saved them), by a scan.
func newSizedStore(ctx context.Context, ds datastore.Datastore, bs blockstore.GCBlockstore, max uint64) (*sizedStore, error) {
	s := &sizedStore{GCBlockstore: bs, max: max}
	ok, err := s.load(ctx, ds)
	if err != nil {
		return nil, err
	}
	if !ok {
		if err := s.recount(ctx, ds); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load takes the saved counters, if any, and deletes them (durably) before
// any block is written: while the store is open they would go stale, and a
// crash must leave none behind, so that the next start scans.
func (s *sizedStore) load(ctx context.Context, ds datastore.Datastore) (bool, error) {
	data, err := ds.Get(ctx, statKey)
	if errors.Is(err, datastore.ErrNotFound) {
		return false, nil
	}
	// The counters only spare a scan: if they cannot be read, scan.
	var saved savedStat
	if err == nil {
		err = json.Unmarshal(data, &saved)
	}
	if err != nil {
		logger().Warn("content: saved repo stat unreadable; counting blocks", "err", err)
		data = nil
	}
	if err := ds.Delete(ctx, statKey); err != nil {
		return false, fmt.Errorf("clear saved repo stat: %w", err)
	}
	if err := ds.Sync(ctx, statKey); err != nil {
		return false, fmt.Errorf("clear saved repo stat: %w", err)
	}
	if data == nil {
		return false, nil
	}
	s.objects, s.bytes = saved.Objects, saved.Bytes
	return true, nil
}

// save stores the counters for the next start; the caller guarantees no
// write follows.
func (s *sizedStore) save(ctx context.Context, ds datastore.Datastore) error {
	st := s.stat()
	data, err := json.Marshal(savedStat{Objects: st.NumObjects, Bytes: st.RepoSize})
	if err != nil {
		return fmt.Errorf("save repo stat: %w", err)
	}
	if err := ds.Put(ctx, statKey, data); err != nil {
		return fmt.Errorf("save repo stat: %w", err)
	}
	return nil
}

// recount sets the counters from one pass over the block keys and their
// value sizes.
func (s *sizedStore) recount(ctx context.Context, ds datastore.Datastore) error {
	res, err := ds.Query(ctx, query.Query{Prefix: blocksPrefix, KeysOnly: true, ReturnsSizes: true})
	if err != nil {
		return fmt.Errorf("count blocks: %w", err)
	}
	defer res.Close()
	var objects, bytes uint64
	for r := range res.Next() {
		if r.Error != nil {
			return fmt.Errorf("count blocks: %w", r.Error)
		}
		objects++
		bytes += uint64(max(r.Size, 0))
	}
	s.mu.Lock()
	s.objects, s.bytes = objects, bytes
	s.mu.Unlock()
	return nil
}

// stat returns the counters.
func (s *sizedStore) stat() RepoStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return RepoStat{NumObjects: s.objects, RepoSize: s.bytes, StorageMax: s.max}
}

// reserve counts n new blocks of size bytes, or refuses them with
// ErrStorageFull if they would pass the limit. The check comes before the
// write, so the limit holds even while the disk still has room.
func (s *sizedStore) reserve(n, size uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.bytes+size > s.max {
		return fmt.Errorf("%w: content.storage_max is %d bytes, %d are stored and %d more were asked for; run `cairn repo gc` or raise the limit",
			ErrStorageFull, s.max, s.bytes, size)
	}
	s.objects += n
	s.bytes += size
	return nil
}

// release undoes a reserve, or counts deleted blocks.
func (s *sizedStore) release(n, size uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects -= min(n, s.objects)
	s.bytes -= min(size, s.bytes)
}

// newBlocks returns the blocks of bs not yet stored and their total size.
// A damaged block, which Has denies so that it is written again, is
// counted already: it still has its size.
func (s *sizedStore) newBlocks(ctx context.Context, bs []blocks.Block) (n, size uint64, err error) {
	for _, b := range bs {
		has, err := s.GCBlockstore.Has(ctx, b.Cid())
		if err != nil {
			return 0, 0, err
		}
		if has {
			continue
		}
		if _, err := s.GCBlockstore.GetSize(ctx, b.Cid()); err == nil {
			continue // damaged, counted already
		}
		n++
		size += uint64(len(b.RawData()))
	}
	return n, size, nil
}

// Put stores b, counting it if it is new.
func (s *sizedStore) Put(ctx context.Context, b blocks.Block) error {
	return s.PutMany(ctx, []blocks.Block{b})
}

// PutMany stores bs, counting the new ones; a batch that would pass the
// limit stores nothing.
func (s *sizedStore) PutMany(ctx context.Context, bs []blocks.Block) error {
	n, size, err := s.newBlocks(ctx, bs)
	if err != nil {
		return err
	}
	if err := s.reserve(n, size); err != nil {
		return err
	}
	if len(bs) == 1 {
		err = s.GCBlockstore.Put(ctx, bs[0])
	} else {
		err = s.GCBlockstore.PutMany(ctx, bs)
	}
	if err != nil {
		s.release(n, size)
	}
	return err
}

// DeleteBlock removes k, uncounting it.
func (s *sizedStore) DeleteBlock(ctx context.Context, k cid.Cid) error {
	size, err := s.GCBlockstore.GetSize(ctx, k)
	if err != nil {
		return err
	}
	if err := s.GCBlockstore.DeleteBlock(ctx, k); err != nil {
		return err
	}
	s.release(1, uint64(size))
	return nil
}

// RepoStat reports the blocks stored, their bytes and the limit.
func (c *Content) RepoStat(ctx context.Context) (RepoStat, error) {
	_, done, err := c.begin(ctx)
	if err != nil {
		return RepoStat{}, err
	}
	defer done()
	return c.sized.stat(), nil
}

// fetchHeadroom is the room a fetch needs under the storage limit: one
// block of the largest size peers exchange. With less left, a fetch is
// refused before it starts, rather than failing to store what arrives and
// leaving the reader waiting for a block that is never kept.
const fetchHeadroom = chunk.BlockSizeLimit

// errIfFull refuses a fetch when the limit leaves no room for a block.
func (s *sizedStore) errIfFull() error {
	st := s.stat()
	if st.StorageMax == 0 || st.RepoSize+uint64(fetchHeadroom) <= st.StorageMax {
		return nil
	}
	return fmt.Errorf("%w: content.storage_max is %d bytes and %d are stored, leaving no room to fetch a block; run `cairn repo gc` or raise the limit",
		ErrStorageFull, st.StorageMax, st.RepoSize)
}

// limitedExchange refuses fetches when the store is full, so that a read
// of missing content fails at once with ErrStorageFull.
type limitedExchange struct {
	exchange.SessionExchange
	sized *sizedStore
}

// GetBlock fetches k unless the store is full.
func (e limitedExchange) GetBlock(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if err := e.sized.errIfFull(); err != nil {
		return nil, err
	}
	return e.SessionExchange.GetBlock(ctx, k)
}

// GetBlocks fetches ks unless the store is full.
func (e limitedExchange) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	if err := e.sized.errIfFull(); err != nil {
		return nil, err
	}
	return e.SessionExchange.GetBlocks(ctx, ks)
}

// NewSession returns a session whose fetches are refused when the store
// is full.
func (e limitedExchange) NewSession(ctx context.Context) exchange.Fetcher {
	return limitedFetcher{e.SessionExchange.NewSession(ctx), e.sized}
}

type limitedFetcher struct {
	exchange.Fetcher
	sized *sizedStore
}

// GetBlock fetches k unless the store is full.
func (f limitedFetcher) GetBlock(ctx context.Context, k cid.Cid) (blocks.Block, error) {
	if err := f.sized.errIfFull(); err != nil {
		return nil, err
	}
	return f.Fetcher.GetBlock(ctx, k)
}

// GetBlocks fetches ks unless the store is full.
func (f limitedFetcher) GetBlocks(ctx context.Context, ks []cid.Cid) (<-chan blocks.Block, error) {
	if err := f.sized.errIfFull(); err != nil {
		return nil, err
	}
	return f.Fetcher.GetBlocks(ctx, ks)
}
