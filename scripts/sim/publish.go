package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// bucketSize is kad-dht's k: a provider record goes to the k peers
// closest to its key.
const bucketSize = 20

// item is one block a peer added, and how its announcement went.
type item struct {
	Publisher int     `json:"publisher"`
	CID       string  `json:"cid"`
	Announced int64   `json:"announced_to"` // ADD_PROVIDER messages sent for it
	PublishMS float64 `json:"publish_ms"`   // from add to announced to half of k peers; -1 never
	cid       cid.Cid
	data      []byte
}

// publish has P distinct peers each add (and pin) one random block through
// content.PutBlock, which queues its announcement as the daemon's add
// does, and waits until every block was announced to half of k peers.
func (s *sim) publish(ctx context.Context) ([]*item, error) {
	order := s.perm(len(s.nodes))
	items := make([]*item, 0, s.cfg.Content)
	for _, idx := range order[:s.cfg.Content] {
		data := make([]byte, s.cfg.BlockSize)
		rand.Read(data)
		c, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: mh.SHA2_256, MhLength: -1}.Sum(data)
		if err != nil {
			return nil, err
		}
		s.announced.watch(c.Hash())
		items = append(items, &item{Publisher: idx, CID: c.String(), PublishMS: -1, cid: c, data: data})
	}
	start := time.Now()
	for _, it := range items {
		_, ct, ok := s.nodes[it.Publisher].running()
		if !ok {
			return nil, fmt.Errorf("publisher %d is offline", it.Publisher)
		}
		got, err := ct.PutBlock(ctx, it.data, "raw", "sha2-256", -1, true)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", it.Publisher, err)
		}
		if !got.Equals(it.cid) {
			return nil, fmt.Errorf("node %d: PutBlock gave %s, want %s", it.Publisher, got, it.cid)
		}
	}
	return items, s.awaitAnnounced(ctx, items, start)
}

// awaitAnnounced polls the announcement counts until each item reached
// half of k peers (or the network, if smaller), for at most 4 timeouts.
func (s *sim) awaitAnnounced(ctx context.Context, items []*item, start time.Time) error {
	want := int64(min(bucketSize, len(s.nodes)-1) / 2)
	deadline := time.Now().Add(4 * s.cfg.Timeout)
	for {
		pending := 0
		for _, it := range items {
			it.Announced = s.announced.count(it.cid.Hash())
			if it.PublishMS < 0 && it.Announced >= want {
				it.PublishMS = ms(time.Since(start))
			}
			if it.PublishMS < 0 {
				pending++
			}
		}
		if pending == 0 || time.Now().After(deadline) {
			s.logf("content: %d blocks added, %d not announced to %d peers", len(items), pending, want)
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// perm is a random permutation of [0,n).
func (s *sim) perm(n int) []int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Perm(n)
}
