package shell_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/promtest"
	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"
)

// get sends a GET to path on srv with the given "Name: value" headers.
func get(t *testing.T, srv *httptest.Server, path string, headers ...string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, strings.ReplaceAll(v, "SELF", srv.URL))
	}
	return do(t, req)
}

// The metrics page serves the shell's request metrics and the node's
// registry, in an exposition Prometheus parses, counting requests by
// command and status.
func TestMetricsServesRequestsAndNodeRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	node := prometheus.NewCounter(prometheus.CounterOpts{Name: "cairn_test_node_total", Help: "A node's series."})
	reg.MustRegister(node)
	node.Add(3)
	srv := newShell(t, shell.Config{Metrics: reg}, shelltest.New())
	post(t, srv, "/api/v0/version")
	post(t, srv, "/api/v0/version")
	post(t, srv, "/api/v0/nope")

	fams := promtest.Scrape(t, srv.URL+shell.MetricsPath, nil)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"cairn_test_node_total", nil, 3},
		{"cairn_shell_requests_total", []string{"endpoint", "version", "code", "200"}, 2},
		{"cairn_shell_requests_total", []string{"endpoint", "unknown", "code", "404"}, 1},
		{"cairn_shell_request_duration_seconds", []string{"endpoint", "version"}, 2},
	} {
		if got, ok := fams.Value(c.name, c.labels...); !ok || got != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

// A series registered twice fails the scrape loudly rather than being
// dropped unseen.
func TestMetricsDuplicateSeriesFailsScrape(t *testing.T) {
	reg := prometheus.NewRegistry()
	clash := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cairn_shell_requests_total", Help: "clash"}, []string{"endpoint", "code"})
	clash.WithLabelValues("version", "200").Inc()
	reg.MustRegister(clash)
	srv := newShell(t, shell.Config{Metrics: reg}, shelltest.New())
	post(t, srv, "/api/v0/version")
	if r := get(t, srv, shell.MetricsPath); r.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %q", r.status, r.body)
	}
}

// The pages answer GET from the shell's own origin and from clients that
// are not browsers; a page from another origin, or a request a browser
// marks as cross-site, is refused and granted no CORS header.
func TestPagesKeepTheAPIsOriginRules(t *testing.T) {
	srv := newShell(t, shell.Config{}, shelltest.New())
	pages := []string{shell.MetricsPath, "/debug/pprof/", "/debug/pprof/cmdline", "/webui/", "/webui/app.js"}
	cases := []struct {
		name    string
		headers []string
		status  int
	}{
		{"no browser", nil, http.StatusOK},
		{"typed URL", []string{"Sec-Fetch-Site: none"}, http.StatusOK},
		{"own page", []string{"Referer: SELF/webui/", "Sec-Fetch-Site: same-origin"}, http.StatusOK},
		{"foreign page", []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, http.StatusForbidden},
		{"foreign page, no Origin", []string{"Sec-Fetch-Site: cross-site"}, http.StatusForbidden},
		{"foreign referer", []string{"Referer: https://evil.example/x"}, http.StatusForbidden},
		{"gateway page", []string{"Origin: http://127.0.0.1:1", "Sec-Fetch-Site: same-site"}, http.StatusForbidden},
	}
	for _, c := range cases {
		for _, page := range pages {
			r := get(t, srv, page, c.headers...)
			if r.status != c.status {
				t.Errorf("%s: GET %s: status %d, want %d", c.name, page, r.status, c.status)
			}
			if acao := r.header.Get("Access-Control-Allow-Origin"); c.status != http.StatusOK && acao != "" {
				t.Errorf("%s: GET %s: refused, yet Access-Control-Allow-Origin %q", c.name, page, acao)
			}
		}
	}
	// The API itself stays POST only.
	if r := get(t, srv, "/api/v0/id"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /api/v0/id: status %d, want 405", r.status)
	}
}

// With an access token, metrics and profiles want it; the page's files,
// which hold nothing of the node's, do not (the page asks for the token
// to call the API).
func TestPagesWantTheAccessToken(t *testing.T) {
	srv := newShell(t, shell.Config{AccessToken: "s3cret"}, shelltest.New())
	for _, page := range []string{shell.MetricsPath, "/debug/pprof/"} {
		if r := get(t, srv, page); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s without token: status %d, want 401", page, r.status)
		}
		if r := get(t, srv, page, "Authorization: Bearer s3cret"); r.status != http.StatusOK {
			t.Errorf("GET %s with token: status %d, want 200", page, r.status)
		}
	}
	if r := get(t, srv, "/webui/"); r.status != http.StatusOK {
		t.Errorf("GET /webui/ without token: status %d, want 200", r.status)
	}
	if r := post(t, srv, "/api/v0/status"); r.status != http.StatusUnauthorized {
		t.Errorf("status without token: %d, want 401", r.status)
	}
}

// The page is served with a policy that confines it to its own files and
// the shell, and may not be framed.
func TestWebUIFiles(t *testing.T) {
	srv := newShell(t, shell.Config{}, shelltest.New())
	r := get(t, srv, "/webui/")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `<script src="app.js"`) {
		t.Fatalf("GET /webui/: %d %q", r.status, r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if js := get(t, srv, "/webui/app.js"); js.status != http.StatusOK || !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /webui/app.js: %d %q", js.status, js.header.Get("Content-Type"))
	}
	if r := get(t, srv, "/webui/nope.js"); r.status != http.StatusNotFound {
		t.Errorf("GET /webui/nope.js: %d, want 404", r.status)
	}
	if r := get(t, srv, "/debug/pprof/"); !strings.Contains(string(r.body), "goroutine") {
		t.Errorf("GET /debug/pprof/ lists no goroutine profile: %q", r.body)
	}
}

// stats/bw answers in Kubo's shape, for all traffic, a protocol or a
// peer, and streams a report per interval with poll=true.
func TestStatsBW(t *testing.T) {
	b := shelltest.NewObserved()
	b.BW[""] = shell.Bandwidth{TotalIn: 100, TotalOut: 200, RateIn: 1.5, RateOut: 2.5}
	b.BW["/ipfs/bitswap/1.2.0"] = shell.Bandwidth{TotalIn: 7}
	p := shelltest.PeerID(3)
	b.BW[p.String()] = shell.Bandwidth{TotalOut: 9}
	srv := newShell(t, shell.Config{}, b)

	for query, want := range map[string]shell.Bandwidth{
		"":                           b.BW[""],
		"?proto=/ipfs/bitswap/1.2.0": {TotalIn: 7},
		"?peer=" + p.String():        {TotalOut: 9},
		"?proto=/ipfs/unknown/1.0.0": {},
	} {
		r := post(t, srv, "/api/v0/stats/bw"+query)
		var got shell.Bandwidth
		if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK || got != want {
			t.Errorf("stats/bw%s: %d %s (%v), want %+v", query, r.status, r.body, err, want)
		}
	}
	wantError(t, post(t, srv, "/api/v0/stats/bw?proto=x&peer="+p.String()), http.StatusBadRequest, "not both")
	wantError(t, post(t, srv, "/api/v0/stats/bw?peer=nope"), http.StatusBadRequest, "invalid peer ID")
	wantError(t, post(t, srv, "/api/v0/stats/bw?poll=true&interval=-1s"), http.StatusBadRequest, "invalid interval")

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req := newPost(t, srv, "/api/v0/stats/bw?poll=true&interval=10ms", nil, "").WithContext(ctx)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for i := range 3 {
		var got shell.Bandwidth
		if !sc.Scan() || json.Unmarshal(sc.Bytes(), &got) != nil || got != b.BW[""] {
			t.Fatalf("poll report %d: %q (%v)", i, sc.Text(), sc.Err())
		}
	}
}

// A node that counts no bandwidth has no stats/bw, as Kubo answers an
// unknown command.
func TestStatsBWUnsupported(t *testing.T) {
	srv, _ := fakeShell(t)
	wantError(t, post(t, srv, "/api/v0/stats/bw"), http.StatusNotFound, "does not count bandwidth")
	wantError(t, post(t, srv, "/api/v0/log/level?arg=all&arg=debug"), http.StatusNotFound, "fixed")
}

// log/level sets a subsystem's level with Kubo's arguments and answer.
func TestLogLevel(t *testing.T) {
	b := shelltest.NewObserved()
	srv := newShell(t, shell.Config{}, b)
	r := post(t, srv, "/api/v0/log/level?arg=content/fastpath&arg=debug")
	var out struct{ Message string }
	if err := json.Unmarshal(r.body, &out); err != nil || out.Message != "Changed log level of 'content/fastpath' to 'debug'\n" {
		t.Fatalf("log/level: %d %q", r.status, r.body)
	}
	if got := b.LogLevel("content/fastpath"); got != "debug" {
		t.Errorf("level set %q, want debug", got)
	}
	wantError(t, post(t, srv, "/api/v0/log/level?arg=nope&arg=debug"), http.StatusBadRequest, `no log subsystem "nope"`)
	wantError(t, post(t, srv, "/api/v0/log/level?arg=all"), http.StatusBadRequest, "want two arguments")
}

// status says who the node is, how it is reached, its peers, tables,
// store, bandwidth and transfers; peers=true lists the peers, sorted, with
// what identify told.
func TestStatus(t *testing.T) {
	b := shelltest.NewObserved()
	b.BW[""] = shell.Bandwidth{TotalIn: 5, RateIn: 1}
	for i := byte(1); i <= 3; i++ {
		dir := "outbound"
		if i == 2 {
			dir = "inbound"
		}
		b.PeerList = append(b.PeerList, shell.PeerInfo{ID: shelltest.PeerID(i), Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: dir, Latency: 1500 * time.Microsecond})
	}
	b.Details[shelltest.PeerID(2)] = shell.PeerDetail{AgentVersion: "kubo/0.39.0", Protocols: []string{"/ipfs/kad/1.0.0"}}
	root := shelltest.RawCid([]byte("moving"))
	b.TransferList = []shell.Transfer{{Cid: root, Kind: "read", Bytes: 10, Size: 40, Fetch: true, Started: time.Now()}}
	srv := newShell(t, shell.Config{GatewayURL: "http://127.0.0.1:8201"}, b)

	var st shell.Status
	r := post(t, srv, "/api/v0/status?peers=true")
	if err := json.Unmarshal(r.body, &st); err != nil || r.status != http.StatusOK {
		t.Fatalf("status: %d %q %v", r.status, r.body, err)
	}
	if st.ID != b.Self.ID.String() || st.GatewayURL != "http://127.0.0.1:8201" || len(st.Addresses) != 2 || !strings.HasSuffix(st.Addresses[0], "/p2p/"+st.ID) {
		t.Errorf("who: %+v", st)
	}
	if st.Peers != (shell.PeerCounts{Connected: 3, Inbound: 1, Outbound: 2}) {
		t.Errorf("peers: %+v", st.Peers)
	}
	if len(st.Routing) != 2 || st.Routing[0].Name != "lan" || st.Routing[0].Peers != 3 || st.Routing[0].Buckets[0] != 3 {
		t.Errorf("routing: %+v", st.Routing)
	}
	if st.Store.StorageMax != 1<<30 || st.Bandwidth == nil || st.Bandwidth.TotalIn != 5 {
		t.Errorf("store %+v, bandwidth %+v", st.Store, st.Bandwidth)
	}
	if len(st.Transfers) != 1 || st.Transfers[0].Cid != root.String() || st.Transfers[0].Size != 40 || !st.Transfers[0].Fetch {
		t.Errorf("transfers: %+v", st.Transfers)
	}
	if len(st.PeerList) != 3 {
		t.Fatalf("peer list: %+v", st.PeerList)
	}
	for i, p := range st.PeerList {
		if i > 0 && st.PeerList[i-1].ID >= p.ID {
			t.Errorf("peer list not sorted by ID: %+v", st.PeerList)
		}
		if p.ID == shelltest.PeerID(2).String() && (p.AgentVersion != "kubo/0.39.0" || len(p.Protocols) != 1 || p.Direction != "inbound" || p.LatencyMs != 1.5) {
			t.Errorf("peer 2: %+v", p)
		}
	}
	// Without peers=true the list is left out; a plain Backend has no
	// bandwidth or transfers to report, and still answers.
	srv2, _ := fakeShell(t)
	var plain map[string]any
	if err := json.Unmarshal(post(t, srv2, "/api/v0/status").body, &plain); err != nil || plain["PeerList"] != nil || plain["Bandwidth"] != nil {
		t.Errorf("plain status: %v %v", plain, err)
	}
}
