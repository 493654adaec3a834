package main

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// lookup is one find-providers lookup and the fetch after it.
type lookup struct {
	I         int     `json:"i"`
	AtMS      float64 `json:"at_ms"` // start, from the run's start
	Requester int     `json:"requester"`
	Publisher int     `json:"publisher"`
	CID       string  `json:"cid"`
	Found     bool    `json:"found"`
	Hops      int     `json:"hops"` // -1 when nothing was found
	LookupMS  float64 `json:"lookup_ms"`
	Requests  int     `json:"requests"` // GET_PROVIDERS sent
	Answers   int     `json:"answers"`  // GET_PROVIDERS answers read
	Fetched   bool    `json:"fetched"`
	FetchMS   float64 `json:"fetch_ms"`
	// PublisherOnline: the block's one holder was online when the
	// lookup began; without replication no fetch can succeed otherwise.
	PublisherOnline bool `json:"publisher_online"`
	Online          int  `json:"online"` // peers online when it began
}

// runLookups runs the Q lookups, Parallel at a time: back to back, or,
// under churn, started evenly over Duration. If ctx ends first, it returns
// the lookups that finished.
func (s *sim) runLookups(ctx context.Context, items []*item) []*lookup {
	var gap time.Duration
	if s.cfg.Churn > 0 && s.cfg.Lookups > 0 {
		gap = s.cfg.Duration / time.Duration(s.cfg.Lookups)
	}
	out := make([]*lookup, s.cfg.Lookups)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range s.cfg.Parallel {
		wg.Go(func() {
			for i := range jobs {
				out[i] = s.oneLookup(ctx, i, items)
			}
		})
	}
	next := time.Now()
feed:
	for i := range s.cfg.Lookups {
		if gap > 0 {
			if sleep(ctx, time.Until(next)) != nil {
				break
			}
			next = next.Add(gap)
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	done := out[:0]
	for _, l := range out {
		if l != nil {
			done = append(done, l)
		}
	}
	return done
}

// oneLookup picks an online requester that is neither the block's
// publisher nor busy, and that has not looked the block up before, then
// finds providers and fetches.
func (s *sim) oneLookup(ctx context.Context, i int, items []*item) *lookup {
	for range 1000 {
		it := items[s.intn(len(items))]
		r := s.nodes[s.intn(len(s.nodes))]
		if r.idx == it.Publisher || !r.busy.TryLock() {
			continue
		}
		if r.looked[it.CID] || !r.isUp() {
			r.busy.Unlock()
			continue
		}
		r.looked[it.CID] = true
		l := s.lookupOn(ctx, i, r, it)
		r.busy.Unlock()
		if ctx.Err() != nil {
			return nil // cut short by the end of the run: not a result
		}
		return l
	}
	return nil
}

// lookupOn runs lookup i of it on r; r.busy is held, so r stays online.
func (s *sim) lookupOn(ctx context.Context, i int, r *node, it *item) *lookup {
	l := &lookup{
		I: i, AtMS: s.since(time.Now()), Requester: r.idx, Publisher: it.Publisher, CID: it.CID, Hops: -1,
		PublisherOnline: s.net.isOnline(s.nodes[it.Publisher].id), Online: s.onlineCount(),
	}
	d, ct, ok := r.running()
	if !ok {
		return l
	}
	key := it.cid.Hash()
	tr := r.tap.track(key)
	lctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	start := time.Now()
	var found peer.AddrInfo
	for pi := range d.FindProvidersAsync(lctx, it.cid, 1) {
		if !l.Found {
			l.Found, found = true, pi
			l.LookupMS = ms(time.Since(start))
		}
	}
	cancel()
	r.tap.untrack(key)
	if !l.Found {
		l.LookupMS = ms(time.Since(start))
	}
	if h, ok := tr.hops(); ok {
		l.Hops = h
	} else if l.Found {
		l.Hops = 0 // the requester's own store had the record
	}
	l.Requests, l.Answers = tr.messages()
	if !l.Found {
		return l
	}
	fctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	start = time.Now()
	// Connect to the provider the lookup found, as a find-then-fetch
	// does; if it is gone, Bitswap looks for other providers itself.
	_ = r.connect(fctx, found)
	b, err := ct.GetBlock(fctx, it.cid)
	l.FetchMS = ms(time.Since(start))
	l.Fetched = err == nil && bytes.Equal(b.RawData(), it.data)
	return l
}

// onlineCount is the number of peers online now.
func (s *sim) onlineCount() int {
	n := 0
	for _, nd := range s.nodes {
		if s.net.isOnline(nd.id) {
			n++
		}
	}
	return n
}
