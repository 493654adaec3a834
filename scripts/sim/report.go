package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// summary is summary.json: the figures of one run.
type summary struct {
	Peers   int     `json:"peers"`
	Lookups int     `json:"lookups"`
	Churn   float64 `json:"churn"`
	Seed    int64   `json:"seed"`
	Latency string  `json:"latency"`

	// Success is the fraction of lookups that found a provider record.
	Success        float64 `json:"success"`
	HopsMedian     float64 `json:"hops_median"`
	HopsP95        float64 `json:"hops_p95"`
	HopsMax        int     `json:"hops_max"`
	LookupMSMedian float64 `json:"lookup_ms_median"`
	LookupMSP95    float64 `json:"lookup_ms_p95"`
	// MessagesPerLookup counts GET_PROVIDERS requests sent (each has at
	// most one answer); AnswersPerLookup the answers read.
	MessagesPerLookup float64 `json:"messages_per_lookup"`
	AnswersPerLookup  float64 `json:"answers_per_lookup"`

	// FetchSuccess is the fraction of lookups whose block was then
	// fetched; FetchSuccessHolderOnline the same over lookups that began
	// while the publisher, the block's only holder, was online.
	FetchSuccess             float64 `json:"fetch_success"`
	FetchSuccessHolderOnline float64 `json:"fetch_success_holder_online"`
	FetchMSMedian            float64 `json:"fetch_ms_median"`
	FetchMSP95               float64 `json:"fetch_ms_p95"`

	Content      int     `json:"content"`
	AnnouncedTo  float64 `json:"announced_to_median"`
	PublishMSMed float64 `json:"publish_ms_median"`

	ChurnStats churnStats `json:"churn_stats"`
	OnlineMin  int        `json:"online_min"`

	RoutingTable sample `json:"routing_table_at_lookups"`
	LinksMade    int64  `json:"links_made"`

	Memory memory `json:"memory"`
	Phases phases `json:"phases_s"`
	Notes  string `json:"notes"`
}

type memory struct {
	PeakRSSMiB        float64 `json:"peak_rss_mib"`
	RSSAfterBuildMiB  float64 `json:"rss_after_build_mib"`
	RSSPerPeerKiB     float64 `json:"rss_per_peer_kib"`
	HeapPerPeerKiB    float64 `json:"heap_per_peer_kib"`
	GoroutinesPerPeer float64 `json:"goroutines_per_peer"`
}

type phases struct {
	Build   float64 `json:"build"`
	Settle  float64 `json:"settle"`
	Publish float64 `json:"publish"`
	Lookups float64 `json:"lookups"`
	Total   float64 `json:"total"`
}

// summarize computes the summary of the lookups.
func summarize(cfg config, ls []*lookup, items []*item) summary {
	s := summary{
		Peers: cfg.Peers, Lookups: len(ls), Churn: cfg.Churn, Seed: cfg.Seed,
		Latency: cfg.Latency.String(), Content: len(items),
	}
	var hops, times, fetches, reqs, answers []float64
	found, fetched, holderOn, holderOnFetched := 0, 0, 0, 0
	for _, l := range ls {
		reqs = append(reqs, float64(l.Requests))
		answers = append(answers, float64(l.Answers))
		if l.PublisherOnline {
			holderOn++
		}
		if !l.Found {
			continue
		}
		found++
		hops = append(hops, float64(l.Hops))
		s.HopsMax = max(s.HopsMax, l.Hops)
		times = append(times, l.LookupMS)
		if l.Fetched {
			fetched++
			fetches = append(fetches, l.FetchMS)
			if l.PublisherOnline {
				holderOnFetched++
			}
		}
	}
	s.Success = ratio(found, len(ls))
	s.FetchSuccess = ratio(fetched, len(ls))
	s.FetchSuccessHolderOnline = ratio(holderOnFetched, holderOn)
	s.HopsMedian, s.HopsP95 = pct(hops, 50), pct(hops, 95)
	s.LookupMSMedian, s.LookupMSP95 = pct(times, 50), pct(times, 95)
	s.FetchMSMedian, s.FetchMSP95 = pct(fetches, 50), pct(fetches, 95)
	s.MessagesPerLookup, s.AnswersPerLookup = mean(reqs), mean(answers)
	var ann, pub []float64
	for _, it := range items {
		ann = append(ann, float64(it.Announced))
		if it.PublishMS >= 0 {
			pub = append(pub, it.PublishMS)
		}
	}
	s.AnnouncedTo, s.PublishMSMed = pct(ann, 50), pct(pub, 50)
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t / float64(len(xs))
}

// pct is the nearest-rank p-th percentile of xs (0 for none).
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// writeJSON writes v, indented, to dir/name.
func writeJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
}

// table prints the summary as a Markdown table.
func (s summary) table(w io.Writer) {
	fmt.Fprintf(w, "| peers | churn | lookups | success | hops median / p95 | lookup ms median / p95 | msgs/lookup | fetch success | RSS/peer |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(w, "| %d | %.0f %% | %d | %.1f %% | %.0f / %.0f | %.0f / %.0f | %.1f | %.1f %% | %.0f KiB |\n",
		s.Peers, s.Churn*100, s.Lookups, s.Success*100, s.HopsMedian, s.HopsP95,
		s.LookupMSMedian, s.LookupMSP95, s.MessagesPerLookup, s.FetchSuccess*100, s.Memory.RSSPerPeerKiB)
}

// rssMiB reads the process's resident set (VmRSS) and its peak (VmHWM)
// from /proc; zeros where /proc is missing.
func rssMiB() (now, peak float64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}

// measureMemory fills the per-peer figures, right after the build.
// base is the RSS before the first peer was built.
func measureMemory(peers int, base float64) memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, _ := rssMiB()
	return memory{
		RSSAfterBuildMiB:  rss,
		RSSPerPeerKiB:     (rss - base) * 1024 / float64(peers),
		HeapPerPeerKiB:    float64(ms.HeapInuse) / 1024 / float64(peers),
		GoroutinesPerPeer: float64(runtime.NumGoroutine()) / float64(peers),
	}
}
