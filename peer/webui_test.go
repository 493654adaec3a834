package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/browser"
	"github.com/cairnnet/cairn/internal/promtest"
	"github.com/cairnnet/cairn/shell"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// screenshotDir is where browser tests leave their screenshots: the
// directory CAIRN_SCREENSHOTS names (created if missing), else the test's
// temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CAIRN_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// screenshot saves the whole page as name.png in dir.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// poll waits for a JavaScript expression to be truthy, failing t with
// what the page shows if it is not within a minute.
func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("waiting for %s (%s): %v\npage:\n%s", what, expr, err, body)
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string { return fmt.Sprintf("%q", s) }

// The web page, opened in Chromium on node A's shell, shows A's ID, lists
// B once B connects, adds a file through its upload control and shows its
// CID, and fetches a file only B holds and shows it complete, with a link
// to it on the gateway's subdomain origin.
func TestWebUIInABrowser(t *testing.T) {
	a := newTestNode(t, testConfig())
	b := newTestNode(t, testConfig())
	shots := screenshotDir(t)
	bctx, cancel := context.WithTimeout(browser.New(t), 3*time.Minute)
	defer cancel()
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(shellURL(t, a)+"/webui/")); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "A's peer ID", "document.getElementById('peer-id').textContent === "+jsString(a.Host().ID().String()))

	if err := b.Host().Connect(t.Context(), libp2ppeer.AddrInfo{ID: a.Host().ID(), Addrs: a.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	poll(t, bctx, "B in the peer list", "document.querySelector('[data-peer="+jsString(b.Host().ID().String())+"]') !== null")

	added := addThroughPage(t, bctx, a)
	t.Logf("the page added %s", added)

	held := randomBytes(t, 512<<10+99)
	onB := importPinned(t, b, files.NewBytesFile(held))
	fetchThroughPage(t, bctx, a, onB, held)
	// The next status poll shows what the store now holds.
	poll(t, bctx, "the store's use", "document.getElementById('store-used').textContent !== '0 B'")
	screenshot(t, bctx, shots, "webui")
}

// addThroughPage uploads a file with the page's file input and checks
// that the CID it shows is pinned on a and holds the file.
func addThroughPage(t *testing.T, ctx context.Context, a *Node) cid.Cid {
	t.Helper()
	data := randomBytes(t, 300<<10+7)
	path := filepath.Join(t.TempDir(), "hello.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles("#add-input", []string{path})); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the added file's CID", "document.querySelector('#added .cid') !== null")
	text, err := chromedp.Run(ctx, chromedp.Text("#added .cid"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := cid.Decode(strings.TrimSpace(text))
	if err != nil {
		t.Fatalf("the page shows %q, not a CID: %v", text, err)
	}
	st, err := a.Content().CheckPins(t.Context(), c)
	if err != nil || len(st) != 1 || st[0].Type == "" {
		t.Errorf("%s is not pinned on A: %v %v", c, st, err)
	}
	if got := readAll(t, t.Context(), a, c); !bytes.Equal(got, data) {
		t.Errorf("%s on A holds %d bytes, not the %d uploaded", c, len(got), len(data))
	}
	return c
}

// fetchThroughPage has the page fetch c, held by another node, and checks
// that it says complete, that a now holds c, and that its link points to
// c's own origin on a's gateway.
func fetchThroughPage(t *testing.T, ctx context.Context, a *Node, c cid.Cid, data []byte) {
	t.Helper()
	if a.held(t.Context(), c) {
		t.Fatalf("A holds %s before the fetch: the test proves nothing", c)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue("#fetch-cid", c.String()), chromedp.Click("#fetch-go")); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, "the fetch to complete", "(document.querySelector('#fetches .state') || {}).textContent === 'complete'")
	if !a.held(t.Context(), c) {
		t.Errorf("the page says complete, but A does not hold %s", c)
	}
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('#fetches .gw-link').href"))
	if err != nil {
		t.Fatal(err)
	}
	if want := subdomainURL(t, a, c); href != want {
		t.Errorf("gateway link %q, want %q", href, want)
	}
	resp, body := clientDo(t, t.Context(), gatewayClient(a), http.MethodGet, href)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET %s: %s, %d bytes, want the file's %d", href, resp.Status, len(body), len(data))
	}
}

// readerPage tries to read the shell's pages from another origin, every
// way a page can: fetch in cors and no-cors mode, XHR, and a frame whose
// document it then reads.
const readerPage = `<!doctype html><meta charset="utf-8"><body><script>
const targets = %s;
const log = [];
async function tryFetch(u, mode) {
  try { const r = await fetch(u, {mode}); const t = await r.text(); log.push(mode + " " + u + ": read " + r.type + " " + t.length); }
  catch (e) { log.push(mode + " " + u + ": " + e.name); }
}
function tryXHR(u) {
  return new Promise(res => { const x = new XMLHttpRequest(); x.open("GET", u);
    x.onloadend = () => { log.push("xhr " + u + ": " + x.status + " " + x.responseText.length); res(); }; x.send(); });
}
function tryFrame(u) {
  return new Promise(res => { const f = document.createElement("iframe"); f.src = u;
    f.onload = () => { let s; try { s = "read " + f.contentDocument.body.innerText.length; } catch (e) { s = e.name; } log.push("frame " + u + ": " + s); res(); };
    document.body.appendChild(f); });
}
(async () => {
  for (const u of targets) { await tryFetch(u, "cors"); await tryFetch(u, "no-cors"); await tryXHR(u); await tryFrame(u); }
  window.cairnDone = log;
})();
</script>`

// A page from another origin can read neither the metrics, nor the
// profiles, nor the web page: fetch and XHR are refused, no-cors gives
// an opaque nothing, and a frame's document stays closed to it.
func TestOtherOriginsCannotReadThePages(t *testing.T) {
	n := newTestNode(t, testConfig())
	base := shellURL(t, n)
	targets := []string{base + shell.MetricsPath, base + "/debug/pprof/cmdline", base + "/webui/"}
	quoted := make([]string, len(targets))
	for i, u := range targets {
		quoted[i] = jsString(u)
	}
	page := fmt.Sprintf(readerPage, "["+strings.Join(quoted, ",")+"]")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(browser.New(t), 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	log, err := chromedp.Run(ctx, chromedp.Poll[[]string]("window.cairnDone", chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		t.Fatalf("the page did not finish: %v", err)
	}
	if len(log) != 4*len(targets) {
		t.Fatalf("%d attempts logged, want %d: %q", len(log), 4*len(targets), log)
	}
	for _, l := range log {
		t.Log(l)
		switch {
		case strings.HasPrefix(l, "no-cors"):
			if !strings.HasSuffix(l, "read opaque 0") && !strings.HasSuffix(l, "TypeError") {
				t.Errorf("no-cors read something: %s", l)
			}
		case strings.HasPrefix(l, "xhr"):
			if !strings.HasSuffix(l, ": 0 0") {
				t.Errorf("XHR read something: %s", l)
			}
		case !strings.HasSuffix(l, "TypeError") && !strings.HasSuffix(l, "SecurityError"):
			t.Errorf("read across origins: %s", l)
		}
	}
	// The attempts reached the shell and were refused there, not lost on
	// the way (which would prove nothing).
	fams := promtest.Scrape(t, base+shell.MetricsPath, nil)
	for _, endpoint := range []string{shell.MetricsPath, "/debug/pprof/cmdline", "/webui/"} {
		if n, _ := fams.Value("cairn_shell_requests_total", "endpoint", endpoint, "code", "403"); n < 1 {
			t.Errorf("the shell refused no request for %s", endpoint)
		}
	}
}
