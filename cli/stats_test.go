package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	"github.com/ipfs/go-cid"
)

// provideStatsNode is the fake node plus provider counters.
type provideStatsNode struct {
	*shelltest.Backend
	stats shell.ProvideStats
}

func (n provideStatsNode) ProvideStats() (shell.ProvideStats, error) { return n.stats, nil }

// statsRepo serves a shell over n and returns a repo pointing at it.
func statsRepo(t *testing.T, n shell.Backend) string {
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

func TestCLIStatsBitswap(t *testing.T) {
	n := provideStatsNode{Backend: shelltest.New()}
	want := shelltest.RawCid([]byte("wanted"))
	partner := shelltest.PeerID(1).String()
	n.Bitswap = shell.BitswapStats{
		Wantlist: []cid.Cid{want}, Peers: []string{partner},
		BlocksReceived: 40, DataReceived: 10 << 20, BlocksSent: 3, DataSent: 786432,
	}
	repo := statsRepo(t, n)
	out := cliOK(t, "stats", "bitswap", "--repo", repo)
	// Kubo's lines, in Kubo's order.
	wantOut := "bitswap status\n" +
		"\tblocks received: 40\n" +
		"\tblocks sent: 3\n" +
		"\tdata received: 10485760\n" +
		"\tdata sent: 786432\n" +
		"\tdup blocks received: 0\n" +
		"\tdup data received: 0\n" +
		"\twantlist [1 keys]\n" +
		"\t\t" + want.String() + "\n" +
		"\tpartners [1]\n"
	if out != wantOut {
		t.Errorf("output:\n%s\nwant:\n%s", out, wantOut)
	}
	if out := cliOK(t, "stats", "bitswap", "-v", "--repo", repo); out != wantOut+"\t\t"+partner+"\n" {
		t.Errorf("-v output lacks the partner:\n%s", out)
	}
}

func TestCLIStatsBitswapOffline(t *testing.T) {
	n := provideStatsNode{Backend: shelltest.New()}
	n.BitswapErr = fmt.Errorf("bitswap stats: %w", shell.ErrOffline)
	_, err := cliRun(t, "stats", "bitswap", "--repo", statsRepo(t, n))
	if err == nil || !strings.Contains(err.Error(), "unable to run offline") {
		t.Fatalf("cairn stats bitswap on an offline node: %v", err)
	}
}

func TestCLIStatsFastPath(t *testing.T) {
	n := provideStatsNode{Backend: shelltest.New()}
	n.FastPath = shell.FastPathStats{
		Fetches: 3, FilesFetched: 2, FellBack: 1, BlocksReceived: 50,
		BytesReceived: 12582912, PeersDropped: 1, BytesServed: 4194304,
	}
	out := cliOK(t, "stats", "fastpath", "--repo", statsRepo(t, n))
	want := "Fetches:        3\n" +
		"FilesFetched:   2\n" +
		"FellBack:       1\n" +
		"BlocksReceived: 50\n" +
		"BytesReceived:  12582912\n" +
		"PeersDropped:   1\n" +
		"BytesServed:    4194304\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}

func TestCLIStatsUsage(t *testing.T) {
	for _, args := range [][]string{{"stats"}, {"stats", "wantlist"}, {"stats", "bitswap", "fastpath"}, {"stats", "provide", "extra"}} {
		if _, err := cliRun(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("cairn %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
