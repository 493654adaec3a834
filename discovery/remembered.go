package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// rememberedPrefix is where remembered peers live in the node's datastore,
// apart from content's /blocks, /pins, /provider and the DHT's /dht.
var rememberedPrefix = datastore.NewKey("/discovery/remembered")

// rememberRefresh is how stale a remembered entry may get before a new
// connection to the same peer, at the same addresses, writes it again. It
// keeps a busy peer from rewriting the datastore on every reconnect.
const rememberRefresh = time.Minute

// rememberedPeer is one entry as stored (JSON, so it can be read by hand).
type rememberedPeer struct {
	Addrs    []string  `json:"addrs"`
	LastSeen time.Time `json:"last_seen"`
}

// remembered keeps the most recently connected peers, bounded, in memory
// and in the datastore. It is safe for concurrent use.
type remembered struct {
	ds    datastore.Datastore
	limit int

	mu    sync.Mutex
	peers map[peer.ID]rememberedPeer
}

// loadRemembered reads what an earlier run remembered. Entries that no
// longer parse are dropped rather than failing the node: they are a cache.
func loadRemembered(ctx context.Context, ds datastore.Datastore, limit int) (*remembered, error) {
	r := &remembered{ds: ds, limit: limit, peers: map[peer.ID]rememberedPeer{}}
	if ds == nil || limit == 0 {
		return r, nil
	}
	res, err := ds.Query(ctx, query.Query{Prefix: rememberedPrefix.String()})
	if err != nil {
		return nil, fmt.Errorf("read remembered peers: %w", err)
	}
	defer res.Close()
	for e := range res.Next() {
		if e.Error != nil {
			return nil, fmt.Errorf("read remembered peers: %w", e.Error)
		}
		id, err := peer.Decode(datastore.RawKey(e.Key).BaseNamespace())
		var rp rememberedPeer
		if err == nil {
			err = json.Unmarshal(e.Value, &rp)
		}
		if err != nil {
			slog.Debug("discovery: dropping unreadable remembered peer", "key", e.Key, "err", err)
			continue
		}
		r.peers[id] = rp
	}
	return r, r.trim(ctx)
}

// remember records that id was just connected at addrs (its listen
// addresses as identify reported them).
func (r *remembered) remember(ctx context.Context, id peer.ID, addrs []ma.Multiaddr, now time.Time) error {
	if r.ds == nil || r.limit == 0 || len(addrs) == 0 {
		return nil
	}
	strs := make([]string, len(addrs))
	for i, a := range addrs {
		strs[i] = a.String()
	}
	slices.Sort(strs)
	r.mu.Lock()
	defer r.mu.Unlock()
	if old, ok := r.peers[id]; ok && slices.Equal(old.Addrs, strs) && now.Sub(old.LastSeen) < rememberRefresh {
		return nil
	}
	rp := rememberedPeer{Addrs: strs, LastSeen: now}
	data, err := json.Marshal(rp)
	if err != nil {
		return fmt.Errorf("remember %s: %w", id, err)
	}
	if err := r.ds.Put(ctx, rememberedPrefix.ChildString(id.String()), data); err != nil {
		return fmt.Errorf("remember %s: %w", id, err)
	}
	r.peers[id] = rp
	return r.trimLocked(ctx)
}

func (r *remembered) trim(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.trimLocked(ctx)
}

// trimLocked drops the oldest entries beyond the limit.
func (r *remembered) trimLocked(ctx context.Context) error {
	var errs []error
	for len(r.peers) > r.limit {
		oldest := r.oldestLocked()
		if err := r.ds.Delete(ctx, rememberedPrefix.ChildString(oldest.String())); err != nil {
			errs = append(errs, fmt.Errorf("forget %s: %w", oldest, err))
		}
		delete(r.peers, oldest)
	}
	return errors.Join(errs...)
}

func (r *remembered) oldestLocked() peer.ID {
	var id peer.ID
	var at time.Time
	for p, rp := range r.peers {
		if id == "" || rp.LastSeen.Before(at) {
			id, at = p, rp.LastSeen
		}
	}
	return id
}

// list returns the remembered peers, most recently seen first.
func (r *remembered) list() []peer.AddrInfo {
	r.mu.Lock()
	type seen struct {
		pi peer.AddrInfo
		at time.Time
	}
	all := make([]seen, 0, len(r.peers))
	for id, rp := range r.peers {
		pi := peer.AddrInfo{ID: id}
		for _, s := range rp.Addrs {
			if a, err := ma.NewMultiaddr(s); err == nil {
				pi.Addrs = append(pi.Addrs, a)
			}
		}
		all = append(all, seen{pi, rp.LastSeen})
	}
	r.mu.Unlock()
	slices.SortFunc(all, func(a, b seen) int { return b.at.Compare(a.at) })
	out := make([]peer.AddrInfo, len(all))
	for i, s := range all {
		out[i] = s.pi
	}
	return out
}
