package replication

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p/core/peer"
)

// recordPrefix is where records live in the datastore, one per root.
var recordPrefix = datastore.NewKey("/replication/record")

// Record is what a peer knows of one replicated root: how many copies it
// should have, who pinned it first, and who was asked to hold it. Every
// holder keeps one, so that any of them can lead the repair; Serial grows
// with every change, and the highest wins.
type Record struct {
	Root   cid.Cid
	Serial uint64
	// Factor is the number of live copies wanted; 0 means the pin was
	// released, and the record stays until ForgetAfter to tell holders
	// that were away.
	Factor int
	// Size is the DAG's size in bytes, as its origin counted it.
	Size uint64
	// Origin pinned Root first; it leads the repair while it lives.
	Origin peer.ID
	// Holders were asked to hold Root (the origin among them) and not
	// released; the ones that stopped answering stay until ForgetAfter.
	Holders []*Holder
	// Changed is when Serial last grew (local).
	Changed time.Time

	// due is when the next round is; busy while one runs; fails counts
	// the rounds in a row that could not reach Factor, for backoff.
	due   time.Time
	busy  bool
	fails int
	// refusals are the last reasons peers gave for not holding Root.
	refusals map[peer.ID]string
}

// Holder is one peer of a record, with what the last checks found.
type Holder struct {
	Peer peer.ID
	// LastProved is when it last proved it held the root.
	LastProved time.Time
	// LastSeen is when it last answered, or was added.
	LastSeen time.Time
	// Live says the last check proved it holds the root.
	Live bool
	// Err says why the last check failed.
	Err string

	// failures and next space out the checks of a holder that fails.
	failures int
	next     time.Time
}

func (r *Record) holder(p peer.ID) *Holder {
	for _, h := range r.Holders {
		if h.Peer == p {
			return h
		}
	}
	return nil
}

// live counts the holders the last checks proved.
func (r *Record) live() int {
	n := 0
	for _, h := range r.Holders {
		if h.Live {
			n++
		}
	}
	return n
}

func (r *Record) peers() []peer.ID {
	out := make([]peer.ID, len(r.Holders))
	for i, h := range r.Holders {
		out[i] = h.Peer
	}
	return out
}

func (r *Record) remove(p peer.ID) {
	r.Holders = slices.DeleteFunc(r.Holders, func(h *Holder) bool { return h.Peer == p })
}

// clone copies r deeply enough for a reader outside the service's lock.
func (r *Record) clone() *Record {
	c := *r
	c.refusals = maps.Clone(r.refusals)
	c.Holders = make([]*Holder, len(r.Holders))
	for i, h := range r.Holders {
		hc := *h
		c.Holders[i] = &hc
	}
	return &c
}

// storedRecord is a record as the datastore keeps it.
type storedRecord struct {
	Wire    *wireRecord    `cbor:"1,keyasint"`
	Changed int64          `cbor:"2,keyasint"`
	Holders []storedHolder `cbor:"3,keyasint"`
}

type storedHolder struct {
	LastProved int64 `cbor:"1,keyasint"`
	LastSeen   int64 `cbor:"2,keyasint"`
}

func recordKey(root cid.Cid) datastore.Key {
	return recordPrefix.ChildString(root.String())
}

func saveRecord(ctx context.Context, ds datastore.Datastore, r *Record) error {
	s := storedRecord{Wire: r.toWire(), Changed: unixNano(r.Changed)}
	for _, h := range r.Holders {
		s.Holders = append(s.Holders, storedHolder{LastProved: unixNano(h.LastProved), LastSeen: unixNano(h.LastSeen)})
	}
	b, err := cbor.Marshal(s)
	if err != nil {
		return fmt.Errorf("save record %s: %w", r.Root, err)
	}
	if err := ds.Put(ctx, recordKey(r.Root), b); err != nil {
		return fmt.Errorf("save record %s: %w", r.Root, err)
	}
	return nil
}

func deleteRecord(ctx context.Context, ds datastore.Datastore, root cid.Cid) error {
	if err := ds.Delete(ctx, recordKey(root)); err != nil && !errors.Is(err, datastore.ErrNotFound) {
		return fmt.Errorf("delete record %s: %w", root, err)
	}
	return nil
}

// loadRecords reads every record; one that does not decode is skipped
// with a warning rather than stopping the node.
func loadRecords(ctx context.Context, ds datastore.Datastore) ([]*Record, error) {
	res, err := ds.Query(ctx, query.Query{Prefix: recordPrefix.String()})
	if err != nil {
		return nil, fmt.Errorf("load records: %w", err)
	}
	defer res.Close()
	var out []*Record
	for e := range res.Next() {
		if e.Error != nil {
			return nil, fmt.Errorf("load records: %w", e.Error)
		}
		r, err := decodeStored(e.Key, e.Value)
		if err != nil {
			logger().Warn("replication: skipping a record that does not decode", "key", e.Key, "err", err)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func decodeStored(key string, b []byte) (*Record, error) {
	root, err := cid.Decode(datastore.NewKey(key).BaseNamespace())
	if err != nil {
		return nil, err
	}
	var s storedRecord
	if err := cbor.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.Wire == nil {
		return nil, errors.New("no record")
	}
	r, err := fromWire(root, s.Wire)
	if err != nil {
		return nil, err
	}
	r.Changed = fromUnixNano(s.Changed)
	for i, h := range r.Holders {
		if i < len(s.Holders) {
			h.LastProved = fromUnixNano(s.Holders[i].LastProved)
			h.LastSeen = fromUnixNano(s.Holders[i].LastSeen)
		}
	}
	return r, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
