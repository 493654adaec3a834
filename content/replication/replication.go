// Package replication keeps a pinned DAG at a replication factor: the
// pinning peer asks the peers closest to the root (by XOR distance, as
// Kademlia places keys) to hold it, checks at intervals that they still
// do by asking for a hash that needs the bytes, asks the next closest
// when copies are lost, and releases the surplus when lost holders come
// back. Every holder keeps the record, so the closest live holder leads
// the repair when the pinning peer is gone.
//
// It speaks its own protocol (ProtocolID) over a libp2p host and reaches
// the content layer through Store, so it runs over a real node or a
// mocknet alike.
package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Store is what replication needs of the content layer.
type Store interface {
	// Hold fetches the whole DAG under root, verified, and pins it as a
	// replica: apart from the user's own pins, so that releasing one
	// never unpins the other. It announces root.
	Hold(ctx context.Context, root cid.Cid) error
	// Release drops the replica pin on root; a user pin stays.
	Release(ctx context.Context, root cid.Cid) error
	// Block returns a block's bytes from the local store, never the
	// network.
	Block(ctx context.Context, c cid.Cid) ([]byte, error)
	// Links returns the CIDs a locally stored block links to.
	Links(ctx context.Context, c cid.Cid) ([]cid.Cid, error)
	// Size returns the bytes of the DAG under root, stored locally.
	Size(ctx context.Context, root cid.Cid) (uint64, error)
	// Free returns the bytes the store may still take.
	Free(ctx context.Context) (uint64, error)
}

// maxRounds bounds the checks running at once.
const maxRounds = 16

// Service runs the protocol and the repair loop. Close stops it.
type Service struct {
	cfg     Config
	host    host.Host
	self    peer.ID
	store   Store
	ds      datastore.Datastore
	peers   func() []peer.ID
	trusted map[peer.ID]bool
	limit   *limiter
	repairs chan struct{} // "hold" requests this peer has in flight
	fetches chan struct{} // fetches it makes for others
	rounds  chan struct{}

	mu       sync.Mutex
	records  map[cid.Cid]*Record
	fetching map[cid.Cid]*fetchOp
	refused  map[peer.ID]time.Time // skip as a candidate until then
	held     uint64                // bytes of replicas held for others
	wake     chan struct{}

	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup
	once sync.Once
}

// fetchOp is a fetch in progress, which a second "hold" waits for.
type fetchOp struct {
	done chan struct{}
	err  error
}

// New starts replication over h, keeping its records in ds. peers lists
// the peers that may be asked to hold a root (nil: the connected peers
// that speak ProtocolID).
func New(h host.Host, s Store, ds datastore.Datastore, cfg Config, peers func() []peer.ID) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	trusted, _ := cfg.trusted()
	srv := &Service{
		cfg: cfg, host: h, self: h.ID(), store: s, ds: ds, peers: peers, trusted: trusted,
		limit:    newLimiter(cfg.RequestRate),
		repairs:  make(chan struct{}, cfg.MaxRepairs),
		fetches:  make(chan struct{}, cfg.MaxRepairs),
		rounds:   make(chan struct{}, maxRounds),
		records:  make(map[cid.Cid]*Record),
		fetching: make(map[cid.Cid]*fetchOp),
		refused:  make(map[peer.ID]time.Time),
		wake:     make(chan struct{}, 1),
	}
	if srv.peers == nil {
		srv.peers = srv.connectedPeers
	}
	srv.life, srv.stop = context.WithCancel(context.Background())
	if err := srv.load(); err != nil {
		srv.stop()
		return nil, err
	}
	h.SetStreamHandler(ProtocolID, srv.serve)
	srv.wg.Go(srv.run)
	return srv, nil
}

// load reads the records of a previous run and spreads their first
// checks over one interval.
func (s *Service) load() error {
	recs, err := loadRecords(s.life, s.ds)
	if err != nil {
		return err
	}
	now := s.cfg.now()
	for _, r := range recs {
		r.due = now.Add(time.Duration(mrand.Int64N(int64(s.cfg.CheckInterval))))
		s.records[r.Root] = r
		if r.Origin != s.self && r.Factor > 0 {
			s.held += r.Size
		}
	}
	return nil
}

// Close stops the protocol and the loop, and waits for them.
func (s *Service) Close() error {
	s.once.Do(func() {
		s.host.RemoveStreamHandler(ProtocolID)
		s.stop()
		s.wg.Wait()
	})
	return nil
}

func (s *Service) connectedPeers() []peer.ID {
	var out []peer.ID
	for _, p := range s.host.Network().Peers() {
		if ok, err := s.host.Peerstore().SupportsProtocols(p, ProtocolID); err == nil && len(ok) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// run starts the checks that are due, as rounds free up.
func (s *Service) run() {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		t.Reset(s.startDue())
	}
}

// poke makes the loop look for due checks now.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// startDue starts the due rounds it has room for and returns how long
// until the next is due.
func (s *Service) startDue() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	next := s.cfg.CheckInterval
	for root, r := range s.records {
		if r.busy {
			continue
		}
		if wait := r.due.Sub(now); wait > 0 {
			next = min(next, wait)
			continue
		}
		select {
		case s.rounds <- struct{}{}:
		default:
			return next // a round ending pokes the loop
		}
		r.busy = true
		s.wg.Go(func() {
			defer func() { <-s.rounds; s.poke() }()
			s.round(s.life, root)
		})
	}
	return next
}

// jittered is the check interval, ±25% at random, so that peers that
// started together do not check together.
func (s *Service) jittered() time.Duration {
	d := s.cfg.CheckInterval
	return d*3/4 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

// update takes rec if it is newer than the record held for its root, and
// returns the record held then; nil when there is none. The peer asked to
// hold is listed even if rec forgot it.
func (s *Service) update(rec *Record) *wireRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.records[rec.Root]
	if cur == nil {
		return nil
	}
	if rec.Serial > cur.Serial {
		s.adoptLocked(cur, rec)
		if cur.holder(s.self) == nil && cur.Factor > 0 {
			cur.Holders = append(cur.Holders, &Holder{Peer: s.self, Live: true, LastSeen: s.cfg.now()})
		}
		s.saveLocked(cur)
	}
	return cur.toWire()
}

// adoptLocked makes cur the newer record, keeping what this peer learnt
// of the holders both name.
func (s *Service) adoptLocked(cur, newer *Record) {
	old := cur.Holders
	cur.Serial, cur.Factor, cur.Size, cur.Origin = newer.Serial, newer.Factor, newer.Size, newer.Origin
	cur.Changed = s.cfg.now()
	cur.Holders = nil
	for _, h := range newer.Holders {
		if i := slices.IndexFunc(old, func(o *Holder) bool { return o.Peer == h.Peer }); i >= 0 {
			h = old[i]
		} else if h.LastSeen.IsZero() {
			h.LastSeen = cur.Changed
		}
		cur.Holders = append(cur.Holders, h)
	}
}

func (s *Service) saveLocked(r *Record) {
	if err := saveRecord(s.life, s.ds, r); err != nil {
		logger().Warn("replication: cannot save record", "root", r.Root, "err", err)
	}
}

// fetch holds rec's root for its origin, within max_bytes and the
// store's room. A second call for the same root waits for the first.
func (s *Service) fetch(ctx context.Context, rec *Record) error {
	s.mu.Lock()
	if op := s.fetching[rec.Root]; op != nil {
		s.mu.Unlock()
		select {
		case <-op.done:
			return op.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.cfg.MaxBytes > 0 && s.held+rec.Size > s.cfg.MaxBytes {
		s.mu.Unlock()
		return fmt.Errorf("full: replicas would take %d bytes, over replication.max_bytes (%d)", s.held+rec.Size, s.cfg.MaxBytes)
	}
	op := &fetchOp{done: make(chan struct{})}
	s.fetching[rec.Root] = op
	s.held += rec.Size
	s.mu.Unlock()

	op.err = s.fetchNow(ctx, rec.Root, rec.Size)
	s.mu.Lock()
	delete(s.fetching, rec.Root)
	if op.err != nil {
		s.held -= rec.Size
	} else {
		s.addHeldLocked(rec)
	}
	s.mu.Unlock()
	close(op.done)
	return op.err
}

func (s *Service) fetchNow(ctx context.Context, root cid.Cid, size uint64) error {
	free, err := s.store.Free(ctx)
	if err != nil {
		return err
	}
	if size > free {
		return fmt.Errorf("full: %d bytes needed, %d left under content.storage_max", size, free)
	}
	select {
	case s.fetches <- struct{}{}:
		defer func() { <-s.fetches }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.store.Hold(ctx, root); err != nil {
		return fmt.Errorf("fetch %s: %w", root, err)
	}
	return nil
}

// addHeldLocked records a root this peer now holds for others.
func (s *Service) addHeldLocked(rec *Record) {
	now := s.cfg.now()
	rec.Changed = now
	for _, h := range rec.Holders {
		if h.LastSeen.IsZero() {
			h.LastSeen = now
		}
	}
	if h := rec.holder(s.self); h != nil {
		h.Live, h.LastProved, h.LastSeen = true, now, now
	} else {
		rec.Holders = append(rec.Holders, &Holder{Peer: s.self, Live: true, LastProved: now, LastSeen: now})
	}
	rec.due = now.Add(s.jittered())
	s.records[rec.Root] = rec
	s.saveLocked(rec)
}

// drop releases this peer's replica of root and forgets its record.
func (s *Service) drop(ctx context.Context, root cid.Cid) error {
	s.mu.Lock()
	rec := s.records[root]
	if rec == nil {
		s.mu.Unlock()
		return nil
	}
	delete(s.records, root)
	if rec.Origin != s.self && rec.Factor > 0 {
		s.held -= min(s.held, rec.Size)
	}
	err := deleteRecord(s.life, s.ds, root)
	s.mu.Unlock()
	// The origin may hold a replica pin too, taken to restore lost
	// blocks; its user's pin is not the store's to release.
	return errors.Join(err, s.store.Release(ctx, root))
}

func (s *Service) wireRecord(root cid.Cid) *wireRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.records[root]; r != nil {
		return r.toWire()
	}
	return nil
}

// skip says whether p refused or failed lately, and is not to be asked.
func (s *Service) skip(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	until, ok := s.refused[p]
	if ok && !s.cfg.now().Before(until) {
		delete(s.refused, p)
		return false
	}
	return ok
}

func (s *Service) penalize(p peer.ID, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refused) >= maxLimited {
		clear(s.refused)
	}
	s.refused[p] = s.cfg.now().Add(d)
}

func logger() *slog.Logger { return slog.Default() }
