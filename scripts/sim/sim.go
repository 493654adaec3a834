package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/dht"
	"github.com/cairnnet/cairn/discovery"
	"github.com/libp2p/go-libp2p/core/peer"
)

// startParallel is how many peers join at once while the network is built.
const startParallel = 8

// sim is one run: the network, its peers and what was measured.
type sim struct {
	cfg       config
	net       *simNet
	nodes     []*node
	announced *announceCounts
	bootstrap []peer.AddrInfo

	dhtCfg     dht.Config
	contentCfg content.Config
	discCfg    discovery.Config

	rngMu sync.Mutex
	rng   *rand.Rand

	began   time.Time // the run's time origin
	log     io.Writer // progress lines
	sampler *sampler
}

func newSim(cfg config, log io.Writer) (*sim, error) {
	s := &sim{log: log,
		cfg: cfg, net: newSimNet(cfg), announced: &announceCounts{},
		rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed)), began: time.Now(),
	}
	for i := range cfg.Peers {
		n, err := newNode(i, s.announced)
		if err != nil {
			return nil, err
		}
		n.seed = i < cfg.Seeds
		s.nodes = append(s.nodes, n)
	}
	var addrs []string
	for _, n := range s.nodes[:cfg.Seeds] {
		addrs = append(addrs, n.bootstrapAddr())
	}
	var err error
	if s.bootstrap, err = discovery.ParseBootstrap(addrs); err != nil {
		return nil, err
	}
	s.dhtCfg = dht.DefaultConfig()
	// Every simulated peer is publicly reachable: a DHT server, as AutoNAT
	// would make it in auto mode.
	s.dhtCfg.Mode = dht.ModeServer
	s.dhtCfg.RefreshInterval = cfg.Refresh
	s.contentCfg = content.DefaultConfig()
	s.contentCfg.ReprovideInterval = cfg.Reprovide
	s.discCfg = discovery.DefaultConfig()
	s.discCfg.MDNS = false
	s.discCfg.Bootstrap = addrs
	s.sampler = newSampler(s)
	return s, nil
}

// intn draws from the run's random source.
func (s *sim) intn(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// build starts every peer, seeds first, then the rest a few at a time.
func (s *sim) build(ctx context.Context) error {
	for _, n := range s.nodes[:s.cfg.Seeds] {
		if err := n.start(ctx, s); err != nil {
			return err
		}
	}
	work := make(chan *node)
	errc := make(chan error, startParallel)
	var wg sync.WaitGroup
	for range startParallel {
		wg.Go(func() {
			for n := range work {
				if err := n.start(ctx, s); err != nil {
					select {
					case errc <- err:
					default:
					}
				}
			}
		})
	}
	for _, n := range s.nodes[s.cfg.Seeds:] {
		select {
		case work <- n:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	return ctx.Err()
}

// shutdown stops every peer. Every peer is cut off first, so that the
// ones still running do not spend the teardown repairing their routing
// tables around the ones already gone.
func (s *sim) shutdown() error {
	s.eachNode(func(n *node) error { n.cutOff(s); return nil })
	return s.eachNode(func(n *node) error { return n.stop(s) })
}

// eachNode runs f on every node, many at once: closing a mocknet
// connection waits for each of its streams to drain its latency queue,
// so one node's teardown is mostly waiting.
func (s *sim) eachNode(f func(*node) error) error {
	var (
		errs []error
		mu   sync.Mutex
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, 64)
	for _, n := range s.nodes {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(n); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// since is the time from the run's start in milliseconds.
func (s *sim) since(t time.Time) float64 { return ms(t.Sub(s.began)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (s *sim) logf(format string, args ...any) {
	fmt.Fprintf(s.log, "[%6.1fs] %s\n", time.Since(s.began).Seconds(), fmt.Sprintf(format, args...))
}
