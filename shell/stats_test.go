package shell_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// statsBackend is the fake node plus provider counters.
type statsBackend struct {
	*shelltest.Backend
	stats shell.ProvideStats
	err   error
}

func (b statsBackend) ProvideStats() (shell.ProvideStats, error) { return b.stats, b.err }

func TestStatsProvide(t *testing.T) {
	last := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	b := statsBackend{Backend: shelltest.New(), stats: shell.ProvideStats{
		TotalProvides:          10000,
		AvgProvideDuration:     3 * time.Millisecond,
		LastReprovideDuration:  30 * time.Second,
		LastReprovideBatchSize: 10000,
		ReprovideInterval:      22 * time.Hour,
		LastRun:                &last,
		Strategy:               "roots",
	}}
	srv := newShell(t, shell.Config{}, b)
	r := post(t, srv, "/api/v0/stats/provide")
	wantStatus(t, r, http.StatusOK)
	// Kubo's field names, durations in nanoseconds, LastRun in RFC 3339.
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	want := map[string]any{
		"TotalProvides":          float64(10000),
		"AvgProvideDuration":     float64(3e6),
		"LastReprovideDuration":  float64(30e9),
		"LastReprovideBatchSize": float64(10000),
		"ReprovideInterval":      float64(22 * time.Hour),
		"LastRun":                "2026-11-25T20:00:00Z",
		"Strategy":               "roots",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestStatsProvideNeverRun(t *testing.T) {
	srv := newShell(t, shell.Config{}, statsBackend{Backend: shelltest.New()})
	r := post(t, srv, "/api/v0/stats/provide")
	wantStatus(t, r, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if v, ok := got["LastRun"]; !ok || v != nil {
		t.Fatalf("LastRun = %v (present %v), want null before the first run", v, ok)
	}
}

func TestStatsProvideErrors(t *testing.T) {
	t.Run("backend fails", func(t *testing.T) {
		srv := newShell(t, shell.Config{}, statsBackend{Backend: shelltest.New(), err: errors.New("provider gone")})
		r := post(t, srv, "/api/v0/stats/provide")
		wantStatus(t, r, http.StatusInternalServerError)
		if e := r.kuboError(t); e.Message != "stats/provide: provider gone" {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("no provider", func(t *testing.T) {
		srv, _ := fakeShell(t)
		wantStatus(t, post(t, srv, "/api/v0/stats/provide"), http.StatusNotFound)
	})
	t.Run("GET refused", func(t *testing.T) {
		srv := newShell(t, shell.Config{}, statsBackend{Backend: shelltest.New()})
		wantStatus(t, do(t, mustRequest(t, http.MethodGet, srv.URL+"/api/v0/stats/provide")), http.StatusMethodNotAllowed)
	})
}
