package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	kad "github.com/libp2p/go-libp2p-kad-dht"
	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"github.com/libp2p/go-libp2p-kad-dht/provider"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

// provideResult is one provider's announcement of K keys from one peer.
type provideResult struct {
	Provider string  `json:"provider"`
	Keys     int     `json:"keys"`
	Peers    int     `json:"peers"`
	Seconds  float64 `json:"seconds"`
	// Lookups counts GetClosestPeers walks: one per key for ProvideMany
	// (each Provide is one), counted at the router for the sweep.
	Lookups        int64   `json:"lookups"`
	LookupsPerKey  float64 `json:"lookups_per_key"`
	Messages       int64   `json:"messages"` // every DHT message the peer sent
	MessagesPerKey float64 `json:"messages_per_key"`
	FindNodePerKey float64 `json:"find_node_per_key"`
	AddProvPerKey  float64 `json:"add_provider_per_key"`
	KeysPerSecond  float64 `json:"keys_per_second"`
	// Found is the fraction of 100 sampled keys that a random other peer
	// then found a provider record for.
	Found float64 `json:"found"`
	Err   string  `json:"error,omitempty"`
}

// runProvide builds the network, then has one peer announce K fresh keys
// with each provider in turn, and writes provide.json.
func runProvide(ctx context.Context, cfg config, w io.Writer) (err error) {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return err
	}
	s, err := newSim(cfg, w)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.shutdown()) }()
	if err := s.build(ctx); err != nil {
		return err
	}
	if err := sleep(ctx, cfg.Settle); err != nil {
		return err
	}
	p := s.nodes[cfg.Seeds] // not a seed: an ordinary peer
	var results []provideResult
	for _, name := range strings.Split(cfg.Providers, ",") {
		keys := randomKeys(cfg.ProvideKeys)
		s.logf("%s: providing %d keys", name, len(keys))
		r, err := s.provideWith(ctx, name, p, keys)
		if err != nil {
			r.Err = err.Error()
		}
		r.Found = s.sampleFound(ctx, p, keys)
		s.logf("%s: %+v", name, r)
		results = append(results, r)
		if err := writeJSON(cfg.Out, "provide.json", results); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "| provider | keys | peers | s | lookups/key | msgs/key | FIND_NODE/key | ADD_PROVIDER/key | keys/s | found |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %.3f | %.1f | %.1f | %.1f | %.0f | %.0f %% |\n",
			r.Provider, r.Keys, r.Peers, r.Seconds, r.LookupsPerKey, r.MessagesPerKey,
			r.FindNodePerKey, r.AddProvPerKey, r.KeysPerSecond, r.Found*100)
	}
	return nil
}

// provideWith announces keys from p with the named provider, counting what
// p sent meanwhile.
func (s *sim) provideWith(ctx context.Context, name string, p *node, keys []mh.Multihash) (provideResult, error) {
	r := provideResult{Provider: name, Keys: len(keys), Peers: len(s.nodes)}
	d, _, ok := p.running()
	if !ok {
		return r, errors.New("provider peer is offline")
	}
	sent0, fn0, ap0 := p.tap.sentN.Load(), p.tap.sentByType(pb.Message_FIND_NODE), p.tap.sentByType(pb.Message_ADD_PROVIDER)
	start := time.Now()
	var err error
	switch name {
	case "ours":
		r.Provider = "ours (dht.ProvideMany)"
		err = d.ProvideMany(ctx, keys)
		r.Lookups = int64(len(keys))
	case "sweep":
		r.Provider = "kad-dht sweeping provider"
		r.Lookups, err = s.sweep(ctx, p, d.WAN, keys)
	}
	r.Seconds = time.Since(start).Seconds()
	k := float64(len(keys))
	r.Messages = p.tap.sentN.Load() - sent0
	r.MessagesPerKey = float64(r.Messages) / k
	r.FindNodePerKey = float64(p.tap.sentByType(pb.Message_FIND_NODE)-fn0) / k
	r.AddProvPerKey = float64(p.tap.sentByType(pb.Message_ADD_PROVIDER)-ap0) / k
	r.LookupsPerKey = float64(r.Lookups) / k
	r.KeysPerSecond = k / max(r.Seconds, 1e-9)
	return r, err
}

// sweep runs kad-dht's SweepingProvider on p's WAN DHT with the options
// provider/dual gives each of its halves (the LAN half has no peers
// here), a router that counts lookups, and waits until every key was
// provided. It returns the lookups made.
func (s *sim) sweep(ctx context.Context, p *node, wan *kad.IpfsDHT, keys []mh.Multihash) (int64, error) {
	router := &countingRouter{r: wan}
	prov, err := provider.New(
		provider.WithHost(p.host),
		provider.WithReplicationFactor(wan.BucketSize()),
		provider.WithSelfAddrs(wan.FilteredAddrs),
		provider.WithRouter(router),
		provider.WithAddLocalRecord(func(ctx context.Context, h mh.Multihash) error {
			return wan.Provide(ctx, cid.NewCidV1(cid.Raw, h), false)
		}),
		provider.WithMessageSender(wan.MessageSender()),
		provider.WithDatastore(namespace.Wrap(p.ds, datastore.NewKey("/sim-sweep"))),
	)
	if err != nil {
		return 0, err
	}
	defer prov.Close()
	// An offline provider keeps the keys for its first reprovide instead
	// of announcing them now; wait for its first connectivity check.
	deadline := time.Now().Add(s.cfg.Timeout)
	for {
		st, err := prov.Stats(ctx)
		if err != nil {
			return 0, err
		}
		if st.Connectivity.Status == "online" {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("sweeping provider still %s after %s", st.Connectivity.Status, s.cfg.Timeout)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return 0, err
		}
	}
	if err := prov.StartProviding(true, keys...); err != nil {
		return router.n.Load(), err
	}
	for {
		st, err := prov.Stats(ctx)
		if err != nil {
			return router.n.Load(), err
		}
		o := st.Operations
		if o.Past.KeysProvided+o.Past.KeysFailed >= int64(len(keys)) && st.Queues.PendingKeyProvides == 0 &&
			st.Queues.PendingRegionProvides == 0 && o.Ongoing.RegionProvides == 0 && o.Ongoing.KeyProvides == 0 {
			if o.Past.KeysFailed > 0 {
				return router.n.Load(), fmt.Errorf("%d keys failed", o.Past.KeysFailed)
			}
			return router.n.Load(), nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return router.n.Load(), err
		}
	}
}

// countingRouter counts the GetClosestPeers lookups the sweep makes.
type countingRouter struct {
	r provider.KadClosestPeersRouter
	n atomic.Int64
}

// GetClosestPeers counts one lookup and runs it.
func (c *countingRouter) GetClosestPeers(ctx context.Context, key string) ([]peer.ID, error) {
	c.n.Add(1)
	return c.r.GetClosestPeers(ctx, key)
}

// sampleFound is the fraction of up to 100 of keys for which a random peer
// other than p finds p's provider record.
func (s *sim) sampleFound(ctx context.Context, p *node, keys []mh.Multihash) float64 {
	n := min(100, len(keys))
	found := 0
	for i := range n {
		q := s.nodes[s.intn(len(s.nodes))]
		d, _, ok := q.running()
		for !ok || q == p {
			q = s.nodes[s.intn(len(s.nodes))]
			d, _, ok = q.running()
		}
		lctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		for pi := range d.FindProvidersAsync(lctx, cid.NewCidV1(cid.Raw, keys[i*len(keys)/n]), 1) {
			if pi.ID == p.id {
				found++
			}
		}
		cancel()
	}
	return ratio(found, n)
}

func randomKeys(n int) []mh.Multihash {
	keys := make([]mh.Multihash, n)
	buf := make([]byte, 32)
	for i := range keys {
		rand.Read(buf)
		keys[i], _ = mh.Sum(buf, mh.SHA2_256, -1)
	}
	return keys
}
