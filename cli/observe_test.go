package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	ma "github.com/multiformats/go-multiaddr"
)

// observedRepo serves a fake node that counts bandwidth, with a read in
// flight and two peers.
func observedRepo(t *testing.T) (*shelltest.Observed, string) {
	t.Helper()
	b := shelltest.NewObserved()
	b.BW[""] = shell.Bandwidth{TotalIn: 2_500_000, TotalOut: 1000, RateIn: 2048, RateOut: 10}
	b.BW["/ipfs/bitswap/1.2.0"] = shell.Bandwidth{TotalIn: 42}
	b.PeerList = []shell.PeerInfo{
		{ID: shelltest.PeerID(1), Addr: ma.StringCast("/ip4/10.0.0.2/tcp/4001"), Direction: "inbound"},
		{ID: shelltest.PeerID(2), Addr: ma.StringCast("/ip4/10.0.0.3/tcp/4001"), Direction: "outbound"},
	}
	b.TransferList = []shell.Transfer{{Cid: shelltest.RawCid([]byte("moving")), Kind: "read", Bytes: 1 << 20, Size: 4 << 20, Fetch: true, Started: time.Now()}}
	return b, statsRepo(t, b)
}

func TestCLIStatsBW(t *testing.T) {
	_, repo := observedRepo(t)
	out := cliOK(t, "stats", "bw", "--repo", repo)
	if want := "Bandwidth\nTotalIn: 2.5 MB\nTotalOut: 1.0 kB\nRateIn: 2.0 kB/s\nRateOut: 10 B/s\n"; out != want {
		t.Errorf("stats bw:\n%s\nwant:\n%s", out, want)
	}
	if out := cliOK(t, "stats", "bw", "--proto", "/ipfs/bitswap/1.2.0", "--repo", repo); !strings.Contains(out, "TotalIn: 42 B\n") {
		t.Errorf("stats bw --proto:\n%s", out)
	}
	if out := cliOK(t, "stats", "bw", "--enc=json", "--repo", repo); !strings.Contains(out, `"TotalIn":2500000`) {
		t.Errorf("stats bw --enc=json: %s", out)
	}
}

func TestCLILogLevel(t *testing.T) {
	b, repo := observedRepo(t)
	if out := cliOK(t, "log", "level", "content/fastpath", "debug", "--repo", repo); out != "Changed log level of 'content/fastpath' to 'debug'\n" {
		t.Errorf("log level: %q", out)
	}
	if got := b.LogLevel("content/fastpath"); got != "debug" {
		t.Errorf("level set %q", got)
	}
	if _, _, code := cliExit(t, "log", "level", "content", "--repo", repo); code != 2 {
		t.Errorf("log level with one argument: exit %d, want 2", code)
	}
	if _, errOut, code := cliExit(t, "log", "level", "nope", "debug", "--repo", repo); code != 1 || !strings.Contains(errOut, `no log subsystem "nope"`) {
		t.Errorf("log level nope: exit %d, %q", code, errOut)
	}
}

func TestCLIStatus(t *testing.T) {
	b, repo := observedRepo(t)
	out := cliOK(t, "status", "--repo", repo)
	for _, want := range []string{
		"Peer ID:     " + b.Self.ID.String() + "\n",
		"Addresses:   /ip4/10.0.0.1/udp/4001/quic-v1/p2p/" + b.Self.ID.String() + "\n",
		"Peers:       2 connected (1 in, 1 out)\n",
		"Routing:     lan 2 peers in 1 buckets, wan 0 peers in 0 buckets\n",
		"Store:       0 B in 0 blocks, 0.0% of 1.0 GiB\n",
		"Bandwidth:   in 2.4 MiB (2.0 KiB/s), out 1000 B (10 B/s)\n",
		"Moving now:  1 read\n",
		"1.0 MiB of 4.0 MiB (25%), network",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}
