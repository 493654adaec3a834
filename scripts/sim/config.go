package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// config is the simulator's command line.
type config struct {
	Peers     int
	Lookups   int
	Churn     float64
	Out       string
	Seed      int64
	Latency   latencyMix
	Bandwidth float64 // bytes per second per link; 0 is unlimited
	Content   int     // P: peers that each add one block
	BlockSize int
	Seeds     int // bootstrap peers, which never churn
	Parallel  int // lookups in flight at once

	Duration  time.Duration // how long the lookups are spread over
	Session   time.Duration // mean online time of a churning peer
	Downtime  time.Duration // mean offline time of a churning peer
	Settle    time.Duration // wait after the last peer joined, before content
	Refresh   time.Duration // dht.refresh_interval of every peer
	Reprovide time.Duration // content.reprovide_interval of every peer
	DeadDial  time.Duration // how long a dial to a departed peer takes to fail
	Timeout   time.Duration // bound on one find-providers, and on one fetch
	Sample    time.Duration // interval of the routing-table and churn samples

	Verbose     bool
	CPUProfile  string
	ProvideKeys int    // > 0: run the reprovide comparison instead of lookups
	Providers   string // which providers the comparison runs: ours,sweep
}

func defaultConfig() config {
	mix, _ := parseMix("10ms:0.3,50ms:0.5,150ms:0.2")
	return config{
		Peers: 100, Lookups: 200, Out: "sim-out", Seed: 1, Latency: mix,
		Bandwidth: 12.5e6, Content: 20, BlockSize: 4096, Seeds: 3, Parallel: 8,
		Duration: 2 * time.Minute, Session: 90 * time.Second, Downtime: 60 * time.Second,
		Settle: 20 * time.Second, Refresh: 10 * time.Minute, Reprovide: 22 * time.Hour,
		DeadDial: 2 * time.Second, Timeout: 30 * time.Second, Sample: 2 * time.Second,
		Providers: "ours,sweep",
	}
}

// parseFlags reads args into a validated config; usage goes to w.
func parseFlags(args []string, w io.Writer) (config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.IntVar(&c.Peers, "peers", c.Peers, "N: simulated Cairn peers")
	fs.IntVar(&c.Lookups, "lookups", c.Lookups, "Q: find-providers lookups (each followed by a fetch) by random peers")
	fs.Float64Var(&c.Churn, "churn", c.Churn, "fraction of peers (never seeds) that leave and rejoin with exponential session times")
	fs.StringVar(&c.Out, "out", c.Out, "directory for summary.json, lookups.json and the plots")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "random seed: same seed, same latencies, content, lookups and churn schedule")
	lat := fs.String("latency", c.Latency.String(), "one-way link latency mix, DURATION:WEIGHT,...; each pair of peers draws one")
	fs.Float64Var(&c.Bandwidth, "bandwidth", c.Bandwidth, "bytes per second of each link (0: unlimited)")
	fs.IntVar(&c.Content, "content", c.Content, "P: peers that each add one block before the lookups")
	fs.IntVar(&c.BlockSize, "block-size", c.BlockSize, "bytes per added block")
	fs.IntVar(&c.Seeds, "seeds", c.Seeds, "bootstrap peers everyone joins through; they never churn")
	fs.IntVar(&c.Parallel, "parallel", c.Parallel, "lookups in flight at once")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "time the lookups are spread over when --churn > 0 (without churn they run back to back)")
	fs.DurationVar(&c.Session, "session", c.Session, "mean time a churning peer stays online")
	fs.DurationVar(&c.Downtime, "downtime", c.Downtime, "mean time a churning peer stays offline")
	fs.DurationVar(&c.Settle, "settle", c.Settle, "wait after the last peer joined, for routing tables to fill")
	fs.DurationVar(&c.Refresh, "refresh", c.Refresh, "routing-table refresh interval of every peer (dht.refresh_interval)")
	fs.DurationVar(&c.Reprovide, "reprovide", c.Reprovide, "reprovide interval of every peer (content.reprovide_interval)")
	fs.DurationVar(&c.DeadDial, "dead-dial", c.DeadDial, "time a dial to a departed peer takes to fail")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "bound on one find-providers and on one fetch")
	fs.DurationVar(&c.Sample, "sample", c.Sample, "interval of routing-table and churn samples")
	fs.BoolVar(&c.Verbose, "v", false, "keep the libraries' log output")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.IntVar(&c.ProvideKeys, "provide-keys", 0, "if > 0, compare reproviding this many keys from one peer (ours vs kad-dht's sweeping provider) instead of the lookups")
	fs.StringVar(&c.Providers, "providers", c.Providers, "with --provide-keys: which providers to run, comma-separated: ours, sweep")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.Latency, err = parseMix(*lat); err != nil {
		return config{}, fmt.Errorf("--latency: %w", err)
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case c.Peers < 2:
		return errors.New("--peers must be at least 2")
	case c.Seeds < 1 || c.Seeds >= c.Peers:
		return errors.New("--seeds must be at least 1 and below --peers")
	case c.Churn < 0 || c.Churn > 0.9:
		return errors.New("--churn must be between 0 and 0.9")
	case c.Content < 1 || c.Content > c.Peers:
		return errors.New("--content must be between 1 and --peers")
	case c.Lookups < 0 || c.Parallel < 1:
		return errors.New("--lookups must be ≥ 0 and --parallel ≥ 1")
	case c.BlockSize < 1 || c.BlockSize > 1<<20:
		return errors.New("--block-size must be between 1 B and 1 MiB")
	case c.Session <= 0 || c.Downtime <= 0 || c.Timeout <= 0 || c.Sample <= 0:
		return errors.New("--session, --downtime, --timeout and --sample must be positive")
	case c.Out == "":
		return errors.New("--out must name a directory")
	}
	for _, p := range strings.Split(c.Providers, ",") {
		if p != "ours" && p != "sweep" {
			return fmt.Errorf("--providers: unknown provider %q (ours, sweep)", p)
		}
	}
	return nil
}

// latencyMix is a weighted set of one-way link latencies.
type latencyMix []latencyClass

type latencyClass struct {
	d time.Duration
	w float64 // normalised: the weights sum to 1
}

// parseMix reads "10ms:0.3,50ms:0.5,150ms:0.2"; weights are normalised.
func parseMix(s string) (latencyMix, error) {
	var m latencyMix
	total := 0.0
	for _, part := range strings.Split(s, ",") {
		ds, ws, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			ws = "1"
		}
		d, err := time.ParseDuration(ds)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("bad latency %q", ds)
		}
		w, err := strconv.ParseFloat(ws, 64)
		if err != nil || w <= 0 {
			return nil, fmt.Errorf("bad weight %q", ws)
		}
		m = append(m, latencyClass{d, w})
		total += w
	}
	for i := range m {
		m[i].w /= total
	}
	return m, nil
}

// pick maps u in [0,1) to a latency of the mix.
func (m latencyMix) pick(u float64) time.Duration {
	for _, c := range m {
		if u < c.w {
			return c.d
		}
		u -= c.w
	}
	return m[len(m)-1].d
}

// mean is the mix's expected one-way latency.
func (m latencyMix) mean() time.Duration {
	var s float64
	for _, c := range m {
		s += float64(c.d) * c.w
	}
	return time.Duration(s)
}

// String is the mix as --latency takes it.
func (m latencyMix) String() string {
	parts := make([]string, len(m))
	for i, c := range m {
		parts[i] = fmt.Sprintf("%s:%g", c.d, c.w)
	}
	return strings.Join(parts, ",")
}
