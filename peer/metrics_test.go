package peer

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/promtest"
	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/boxo/files"
	"github.com/prometheus/client_golang/prometheus"
)

// After B reads a file only A holds, both nodes' /debug/metrics/prometheus
// count its bytes (received on B, sent on A), B times the fetch, and each
// whole exposition parses with Prometheus' own parser, with no series
// twice, though two nodes share the process. go-libp2p's, boxo gateway's
// and the Go runtime's families are there too, and stats/bw and status
// agree that bytes moved.
func TestMetricsCountATransferOnBothSides(t *testing.T) {
	a := newTestNode(t, testConfig())
	b := newTestNode(t, testConfig(a))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	data := randomBytes(t, 1<<20+4321)
	root := importPinned(t, a, files.NewBytesFile(data))
	waitFor(t, "B connected to A", 20*time.Second, func() bool { return len(b.Host().Network().ConnsToPeer(a.Host().ID())) > 0 })

	resp, body := httpDo(t, ctx, http.MethodPost, shellURL(t, b)+"/api/v0/cat?arg="+root.String())
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("cat on B: %s, %d bytes of %d", resp.Status, len(body), len(data))
	}
	// One gateway request, so that boxo's gateway has series to show.
	httpDo(t, ctx, http.MethodGet, b.GatewayURL()+"/ipfs/"+root.String()+"?format=raw")

	fa := promtest.Scrape(t, shellURL(t, a)+shell.MetricsPath, nil)
	fb := promtest.Scrape(t, shellURL(t, b)+shell.MetricsPath, nil)
	size := float64(len(data))
	received := sum(fb, "cairn_fastpath_bytes_received_total", "cairn_bitswap_bytes_received_total")
	sent := sum(fa, "cairn_fastpath_bytes_served_total", "cairn_bitswap_bytes_sent_total")
	t.Logf("B received %.0f bytes, A sent %.0f, for a file of %.0f", received, sent, size)
	if received < size || sent < size {
		t.Errorf("bytes received on B %.0f, sent on A %.0f; want both at least the file's %.0f", received, sent, size)
	}
	if n, _ := fb.Value("cairn_fetch_seconds", "outcome", "complete"); n < 1 {
		t.Errorf("B timed %v complete fetches, want at least 1", n)
	}
	if stored, _ := fa.Value("cairn_store_bytes"); stored < size {
		t.Errorf("A stores %.0f bytes, want at least %.0f", stored, size)
	}
	if n, _ := fb.Value("cairn_shell_requests_total", "endpoint", "cat", "code", "200"); n != 1 {
		t.Errorf("B counted %v cat requests, want 1", n)
	}
	for _, prefix := range []string{"libp2p_", "ipfs_http_gw_", "go_", "process_", "rpc_"} {
		if !hasFamily(fb, prefix) {
			t.Errorf("B's exposition has no %s* family", prefix)
		}
	}

	// libp2p's meters fold in what they counted once a second.
	waitFor(t, "stats/bw on B to count the file", 20*time.Second, func() bool {
		var bw shell.Bandwidth
		_, body := httpDo(t, ctx, http.MethodPost, shellURL(t, b)+"/api/v0/stats/bw")
		if err := json.Unmarshal(body, &bw); err != nil {
			t.Fatalf("stats/bw on B: %s: %v", body, err)
		}
		return float64(bw.TotalIn) >= size
	})
	var st shell.Status
	_, body = httpDo(t, ctx, http.MethodPost, shellURL(t, b)+"/api/v0/status")
	if err := json.Unmarshal(body, &st); err != nil || st.Peers.Connected < 1 || st.ID != b.Host().ID().String() {
		t.Errorf("status on B: %s (%v)", body, err)
	}
}

func sum(fs promtest.Families, names ...string) float64 {
	var total float64
	for _, n := range names {
		v, _ := fs.Value(n)
		total += v
	}
	return total
}

func hasFamily(fs promtest.Families, prefix string) bool {
	for name := range fs {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// No node registers on Prometheus' global registry: several nodes in a
// process would clash there.
func TestNodesLeaveTheGlobalRegistryAlone(t *testing.T) {
	before, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := newTestNode(t, testConfig())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	httpDo(t, ctx, http.MethodGet, n.GatewayURL()+"/ipfs/bafkqaaa?format=raw")
	after, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range before {
		names[f.GetName()] = true
	}
	for _, f := range after {
		if !names[f.GetName()] {
			t.Errorf("a node registered %s on the global registry", f.GetName())
		}
	}
}
