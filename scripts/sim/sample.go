package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// sample is the network's state at one moment.
type sample struct {
	AtMS   float64 `json:"at_ms"`
	Online int     `json:"online"`
	Links  int     `json:"links"`
	// Routing-table sizes (WAN DHT) over the online peers.
	RTMin    int `json:"rt_min"`
	RTP10    int `json:"rt_p10"`
	RTMedian int `json:"rt_median"`
	RTP90    int `json:"rt_p90"`
	RTMax    int `json:"rt_max"`
}

// sampler records a sample every Sample until stopped.
type sampler struct {
	s       *sim
	mu      sync.Mutex
	samples []sample
	stop    context.CancelFunc
	done    chan struct{}
}

func newSampler(s *sim) *sampler { return &sampler{s: s} }

func (sp *sampler) start(ctx context.Context) {
	ctx, sp.stop = context.WithCancel(ctx)
	sp.done = make(chan struct{})
	go func() {
		defer close(sp.done)
		t := time.NewTicker(sp.s.cfg.Sample)
		defer t.Stop()
		for {
			sp.take()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// finish stops sampling and returns every sample taken.
func (sp *sampler) finish() []sample {
	sp.stop()
	<-sp.done
	sp.take()
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return slices.Clone(sp.samples)
}

func (sp *sampler) take() {
	var sizes []int
	for _, n := range sp.s.nodes {
		d, ok := n.peek()
		if !ok {
			continue
		}
		_, wan := d.Peers()
		sizes = append(sizes, wan)
	}
	slices.Sort(sizes)
	smp := sample{AtMS: sp.s.since(time.Now()), Online: len(sizes), Links: sp.s.net.linkCount()}
	if len(sizes) > 0 {
		smp.RTMin, smp.RTMax = sizes[0], sizes[len(sizes)-1]
		smp.RTP10, smp.RTMedian, smp.RTP90 = pctInt(sizes, 10), pctInt(sizes, 50), pctInt(sizes, 90)
	}
	sp.mu.Lock()
	sp.samples = append(sp.samples, smp)
	sp.mu.Unlock()
}

// last is the latest sample.
func (sp *sampler) last() sample {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if len(sp.samples) == 0 {
		return sample{}
	}
	return sp.samples[len(sp.samples)-1]
}

// pctInt is the nearest-rank p-th percentile of sorted xs.
func pctInt(xs []int, p float64) int {
	if len(xs) == 0 {
		return 0
	}
	i := int(p/100*float64(len(xs))+0.5) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
