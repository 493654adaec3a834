package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"time"
)

// sample is one check: the live copies of each file, seconds from start.
type sample struct {
	T    float64 `json:"t"`
	Live []int   `json:"live"`
	Up   int     `json:"up"`
}

// results is what results.json holds.
type results struct {
	Peers       int       `json:"peers"`
	Files       int       `json:"files"`
	Factor      int       `json:"factor"`
	Duration    string    `json:"duration"`
	Kills       int       `json:"kills"`
	Restarts    int       `json:"restarts"`
	Checks      int       `json:"checks"`
	Reads       int       `json:"reads"`
	FailedReads int       `json:"failed_reads"`
	MinLive     int       `json:"min_live"`
	Repairs     []float64 `json:"repair_seconds"`
	Unrepaired  int       `json:"unrepaired_at_end"`
	MedianS     float64   `json:"repair_median_seconds"`
	P95S        float64   `json:"repair_p95_seconds"`
	Samples     []sample  `json:"samples"`
}

// soak kills and restarts daemons until cfg.duration passes, checking
// every cfg.check. A file's repair runs from the first check that finds
// it under the factor to the first that finds it back.
func soak(ctx context.Context, cfg config, n *network, files []file) *results {
	rng := rand.New(rand.NewPCG(cfg.seed, 1))
	res := &results{Peers: cfg.peers, Files: len(files), Factor: cfg.factor, Duration: cfg.duration.String(), MinLive: cfg.factor}
	start := time.Now()
	below := make([]time.Time, len(files))
	nextChaos := start.Add(chaosWait(rng))
	for time.Since(start) < cfg.duration && ctx.Err() == nil {
		if time.Now().After(nextChaos) {
			n.chaos(ctx, cfg, rng, res)
			nextChaos = time.Now().Add(chaosWait(rng))
		}
		s := n.check(ctx, files, rng, res)
		s.T = time.Since(start).Seconds()
		res.Samples = append(res.Samples, s)
		res.Checks++
		for i, live := range s.Live {
			res.MinLive = min(res.MinLive, live)
			switch {
			case live < cfg.factor && below[i].IsZero():
				below[i] = time.Now()
			case live >= cfg.factor && !below[i].IsZero():
				res.Repairs = append(res.Repairs, time.Since(below[i]).Seconds())
				below[i] = time.Time{}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(cfg.check):
		}
	}
	for _, b := range below {
		if !b.IsZero() {
			res.Unrepaired++
		}
	}
	res.MedianS, res.P95S = quantile(res.Repairs, 0.5), quantile(res.Repairs, 0.95)
	return res
}

// chaosWait is the time to the next kill or restart.
func chaosWait(rng *rand.Rand) time.Duration {
	return 5*time.Second + time.Duration(rng.Int64N(int64(10*time.Second)))
}

// chaos kills a random live daemon, unless max-down are down already, and
// restarts those down for more than 20 s (half of them) or 40 s (all).
func (n *network) chaos(ctx context.Context, cfg config, rng *rand.Rand, res *results) {
	for _, d := range n.daemons {
		if d.proc == nil && (time.Since(d.down) > 40*time.Second || (time.Since(d.down) > 20*time.Second && rng.IntN(2) == 0)) {
			if err := n.start(ctx, d); err != nil {
				log.Printf("soak: restart %s: %v", d.id, err)
				continue
			}
			res.Restarts++
			log.Printf("soak: restarted %s", d.id)
		}
	}
	up := n.up()
	if len(n.daemons)-len(up) >= cfg.maxDown {
		return
	}
	d := up[rng.IntN(len(up))]
	n.kill(d)
	res.Kills++
	log.Printf("soak: killed %s", d.id)
}

// check counts each file's live copies and reads it whole from a random
// live daemon.
func (n *network) check(ctx context.Context, files []file, rng *rand.Rand, res *results) sample {
	up := n.up()
	s := sample{Up: len(up)}
	for _, f := range files {
		s.Live = append(s.Live, n.liveCopies(ctx, up, f))
		d := up[rng.IntN(len(up))]
		res.Reads++
		if err := n.read(ctx, d, f); err != nil {
			res.FailedReads++
			log.Printf("soak: FAILED read of %s from %s: %v", f.cid, d.id, err)
		}
	}
	return s
}

// liveCopies counts the live daemons that hold f: a replication record
// of it, and a pin.
func (n *network) liveCopies(ctx context.Context, up []*daemon, f file) int {
	live := 0
	for _, d := range up {
		var st struct{ Factor int }
		if n.call(ctx, d, "pin/status?arg="+f.cid, nil, &st) != nil || st.Factor == 0 {
			continue
		}
		if n.call(ctx, d, "pin/ls?arg="+f.cid, nil, nil) == nil {
			live++
		}
	}
	return live
}

// read cats f from d and compares its hash.
func (n *network) read(ctx context.Context, d *daemon, f file) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/api/v0/cat?arg=%s", d.shell, f.cid)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cat: %s", resp.Status)
	}
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return err
	}
	if [32]byte(h.Sum(nil)) != f.sha256 {
		return fmt.Errorf("cat: bytes differ")
	}
	return nil
}
