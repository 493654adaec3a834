package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary play the wire sender when the harness
// re-executes itself under test.
func TestMain(m *testing.M) {
	if isWireChild() {
		if err := runWireChild(); err != nil {
			os.Stderr.WriteString("bench wire sender: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The harness runs end to end in smoke mode (64 MiB, one run): every row
// gets a Cairn figure, and the table, JSON and chart are written. Kubo
// joins only when it is already built (scripts/kubo.sh's cache or
// $CAIRN_KUBO): building it would cost CI two minutes. About 20 s with
// Kubo, 10 s without, after cairn's build.
func TestSmoke(t *testing.T) {
	cfg, err := parseFlags([]string{"--smoke", "--root", "../..", "--out", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kubo == "" {
		cfg.Kubo = cachedKubo()
	}
	cfg.NoKubo = cfg.Kubo == ""
	t.Logf("kubo: %q (empty: skipped)", cfg.Kubo)
	// libtorrent joins only when already installed: apt-get is no part
	// of a test.
	cfg.NoLibtorrent = !libtorrentReady(t.Context())
	t.Logf("libtorrent skipped: %v", cfg.NoLibtorrent)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, cfg, &out); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	if cfg.NoKubo && !strings.Contains(out.String(), "--no-kubo") {
		t.Error("the table does not say Kubo was skipped")
	}
	raw, err := os.ReadFile(filepath.Join(cfg.Out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if len(rep.Rows) != 17 {
		t.Errorf("results.json has %d rows, want 17", len(rep.Rows))
	}
	if rep.CPUModel == "" || len(rep.LoadBefore) != cfg.Runs {
		t.Errorf("results.json: CPU model %q, load before %d runs: %v", rep.CPUModel, cfg.Runs, rep.LoadBefore)
	}
	for _, row := range rep.Rows {
		if row.Columns[colCairn] == nil {
			t.Errorf("row %q has no Cairn figure", row.Label)
		}
		fileRow := strings.Contains(row.Label, "file to file")
		if !cfg.NoKubo && !fileRow && row.Columns[colKubo] == nil {
			t.Errorf("row %q has no Kubo figure", row.Label)
		}
		if !cfg.NoLibtorrent && fileRow && !strings.HasSuffix(row.Label, "client") && row.Columns[colLibtorrent] == nil {
			t.Errorf("row %q has no libtorrent figure", row.Label)
		}
		if row.Unit != "CPU-s" {
			continue
		}
		// Every side of a fetch costs CPU, and the wire's two processes
		// are measured too (the wire has no separate client).
		for col, s := range row.Columns {
			if s.Median <= 0 {
				t.Errorf("row %q, %s: %v CPU-s per GiB", row.Label, col, s.Median)
			}
		}
		if !fileRow && row.Label != "CPU per GiB fetched: client" && row.Columns[colLimit] == nil {
			t.Errorf("row %q has no wire-limit figure", row.Label)
		}
	}
	if fi, err := os.Stat(filepath.Join(cfg.Out, "chart.png")); err != nil || fi.Size() == 0 {
		t.Errorf("chart.png: %v", err)
	}
}

// cachedKubo is scripts/kubo.sh's binary if it is already built and runs.
func cachedKubo() string {
	cache := os.Getenv("KUBO_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		cache = filepath.Join(base, "cairn-kubo")
	}
	bin := filepath.Join(cache, "v0.43.1", "ipfs")
	if exec.Command(bin, "version").Run() != nil {
		return ""
	}
	return bin
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1GiB", 1 << 30, true},
		{"256MiB", 256 << 20, true},
		{"64M", 64 << 20, true},
		{"1024", 1024, true},
		{"0", 0, false},
		{"-1MiB", 0, false},
		{"lots", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestMedianAndFetchSizes(t *testing.T) {
	if m := median([]float64{1, 5, 9}); m != 5 {
		t.Errorf("median of 1 5 9 = %v", m)
	}
	if m := median([]float64{1, 3}); m != 2 {
		t.Errorf("median of 1 3 = %v", m)
	}
	cfg := defaultConfig()
	if got := cfg.fetchSizes(); len(got) != 2 || got[0] != 256<<20 || got[1] != 1<<30 {
		t.Errorf("fetch sizes at 1 GiB: %v", got)
	}
	cfg.Size = 256 << 20
	if got := cfg.fetchSizes(); len(got) != 1 {
		t.Errorf("fetch sizes at 256 MiB: %v", got)
	}
}
