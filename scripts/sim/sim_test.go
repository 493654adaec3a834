package main

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	logging "github.com/ipfs/go-log/v2"
)

func TestMain(m *testing.M) {
	logging.SetAllLoggers(logging.LevelFatal)
	os.Exit(m.Run())
}

// The smoke size of issue 18, as CI runs it: 100 peers, a fifth of them
// churning, lookups spread over the churn. It checks the run works end to
// end, not the targets: those are for the N=1,000 runs in the README.
func TestSmoke(t *testing.T) {
	cfg := defaultConfig()
	cfg.Peers, cfg.Lookups, cfg.Content = smokePeers, 40, 10
	cfg.Churn, cfg.Duration, cfg.Session, cfg.Downtime = 0.2, 15*time.Second, 8*time.Second, 4*time.Second
	cfg.Settle, cfg.Sample = 5*time.Second, time.Second
	// Generous: on a loaded machine a lookup may wait long for the CPU,
	// and this test is about correctness, not speed.
	cfg.Timeout = 2 * time.Minute
	cfg.Out = t.TempDir()
	// On a loaded machine the run may not finish all its lookups before
	// the test's deadline: it stops early, keeping time to shut down, and
	// the checks apply to the lookups that finished.
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-3*time.Minute))
		defer cancel()
	}
	sum, err := run(ctx, cfg, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lookups < 10 {
		t.Fatalf("only %d of %d lookups finished", sum.Lookups, cfg.Lookups)
	}
	// Records live on 20 peers, of which churn takes a few away at a
	// time: nearly every lookup finds one.
	if sum.Success < 0.95 {
		t.Errorf("success %.2f, want ≥ 0.95", sum.Success)
	}
	// A record in the requester's own store is 0 hops, and at this
	// size a fifth of the peers hold each record.
	if sum.HopsMedian > 4 || sum.HopsMax > 10 {
		t.Errorf("hops median %.0f, max %d: not a Kademlia walk over %d peers", sum.HopsMedian, sum.HopsMax, smokePeers)
	}
	if sum.MessagesPerLookup < 1 {
		t.Errorf("%.1f messages per lookup", sum.MessagesPerLookup)
	}
	if sum.ChurnStats.Churners != smokePeers/5 || sum.ChurnStats.Leaves == 0 || sum.ChurnStats.Failed > 0 {
		t.Errorf("churn: %+v", sum.ChurnStats)
	}
	checkOutputs(t, cfg.Out)
}

// checkOutputs parses summary.json and lookups.json and decodes each plot.
func checkOutputs(t *testing.T, dir string) {
	t.Helper()
	var got map[string]any
	readJSON(t, filepath.Join(dir, "summary.json"), &got)
	for _, k := range []string{"peers", "lookups", "success", "hops_median", "hops_p95", "lookup_ms_median", "lookup_ms_p95", "messages_per_lookup"} {
		if _, ok := got[k]; !ok {
			t.Errorf("summary.json has no %s", k)
		}
	}
	var ls []lookup
	readJSON(t, filepath.Join(dir, "lookups.json"), &ls)
	if len(ls) == 0 {
		t.Error("lookups.json is empty")
	}
	for _, name := range []string{"hops.png", "lookup_cdf.png", "churn.png", "rtfill.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
			t.Errorf("%s is %v", name, b)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// testLog sends the run's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
