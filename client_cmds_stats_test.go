package main

import (
	"errors"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// provideStatsNode is the fake node plus provider counters.
type provideStatsNode struct {
	*shelltest.Backend
	stats shell.ProvideStats
}

func (n provideStatsNode) ProvideStats() (shell.ProvideStats, error) { return n.stats, nil }

// statsRepo serves a shell over n and returns a repo pointing at it.
func statsRepo(t *testing.T, n provideStatsNode) string {
	t.Helper()
	h, err := shell.New(shell.Config{}, n)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	repo := t.TempDir()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if err := os.WriteFile(filepath.Join(repo, "api"), []byte("/ip4/"+host+"/tcp/"+port+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

func TestCLIStatsProvide(t *testing.T) {
	last := time.Date(2026, 11, 25, 20, 0, 0, 0, time.UTC)
	repo := statsRepo(t, provideStatsNode{shelltest.New(), shell.ProvideStats{
		TotalProvides:          10000,
		AvgProvideDuration:     2 * time.Millisecond,
		LastReprovideDuration:  20 * time.Second,
		LastReprovideBatchSize: 10000,
		ReprovideInterval:      22 * time.Hour,
		LastRun:                &last,
		Strategy:               "roots",
	}})
	out := cliOK(t, "stats", "provide", "--repo", repo)
	for _, want := range []string{
		"TotalProvides:          10000\n",
		"AvgProvideDuration:     2ms\n",
		"LastReprovideDuration:  20s\n",
		"LastReprovideBatchSize: 10000\n",
		"ReprovideInterval:      22h0m0s\n",
		"LastRun:                " + last.Local().Format(time.RFC3339) + "\n",
		"Strategy:               roots\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	idle := statsRepo(t, provideStatsNode{Backend: shelltest.New()})
	out = cliOK(t, "stats", "provide", "--repo", idle)
	if !strings.Contains(out, "LastRun:                never\n") || !strings.Contains(out, "ReprovideInterval:      off\n") {
		t.Errorf("an idle reprovider prints:\n%s", out)
	}
}

func TestCLIStatsUsage(t *testing.T) {
	for _, args := range [][]string{{"stats"}, {"stats", "bitswap"}, {"stats", "provide", "extra"}} {
		if _, err := cliRun(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("cairn %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
