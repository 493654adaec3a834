package packstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// Query lists the stored keys (with their values unless KeysOnly),
// applying the query's filters, orders, offset and limit. It writes
// nothing, so it works on a full disk: the values not yet indexed are
// listed from memory. Damaged values are listed, with their length, so
// that they are found and reported; reading one gives ErrDamaged.
func (s *Store) Query(ctx context.Context, q query.Query) (query.Results, error) {
	unindexed := s.unindexed(q.Prefix)
	inner, err := s.index.Query(ctx, query.Query{Prefix: q.Prefix})
	if err != nil {
		return nil, err
	}
	next := func() (query.Entry, bool, error) {
		for {
			r, ok := inner.NextSync()
			if !ok {
				return query.Entry{}, false, nil
			}
			if r.Error != nil {
				return query.Entry{}, true, r.Error
			}
			if _, later := unindexed[r.Key]; later {
				continue // listed with its newer value below
			}
			at, err := decodeLoc(r.Value)
			if err != nil {
				return query.Entry{}, true, fmt.Errorf("packstore: %s: %w", r.Key, err)
			}
			return query.Entry{Key: r.Key, Size: int(at.n)}, true, nil
		}
	}
	keys := make([]string, 0, len(unindexed))
	for k := range unindexed {
		keys = append(keys, k)
	}
	res := query.ResultsFromIterator(q, query.Iterator{
		Next: func() (query.Result, bool) {
			e, ok, err := next()
			if !ok {
				if len(keys) == 0 {
					return query.Result{}, false
				}
				k := keys[len(keys)-1]
				keys = keys[:len(keys)-1]
				e, ok = query.Entry{Key: k, Size: int(unindexed[k].n)}, true
			}
			if err == nil && !q.KeysOnly {
				e.Value, err = s.Get(ctx, datastore.RawKey(e.Key))
			}
			if err != nil {
				return query.Result{Error: err}, true
			}
			return query.Result{Entry: e}, true
		},
		Close: inner.Close,
	})
	return query.NaiveQueryApply(query.Query{
		Filters: q.Filters, Orders: q.Orders, Offset: q.Offset, Limit: q.Limit,
	}, res), nil
}

// unindexed returns the values not yet in the index whose keys are under
// prefix.
func (s *Store) unindexed(prefix string) map[string]loc {
	prefix = strings.TrimSuffix(prefix, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]loc)
	for k, at := range s.w.pending {
		if prefix == "" || k == prefix || strings.HasPrefix(k, prefix+"/") {
			out[k] = at
		}
	}
	return out
}
