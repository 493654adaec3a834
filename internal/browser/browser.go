// Package browser runs Debian's Chromium headless for tests that must see
// what a real browser does (origin rules, redirects, forms), driven with
// chromedp. Chromium is installed with apt-get on first use when missing,
// as scripts/kubo.sh builds Kubo, so `go test ./...` passes on a fresh
// machine. Test support, not part of Cairn.
package browser

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// New starts a fresh headless Chromium for t, with an empty profile of its
// own, and returns the context to pass to chromedp.Run and chromedp.Do. The browser is
// closed and its profile removed when t ends. A Chromium that cannot be
// installed or started fails t: it is never a skip.
func New(t testing.TB) context.Context {
	t.Helper()
	bin, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), options(bin, t.TempDir())...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start it now, so that a browser that cannot run fails here and not
	// in the middle of the test's first action.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", bin, err)
	}
	return ctx
}

// options are chromedp's defaults (Puppeteer's) made explicit, plus what
// this machine needs: no sandbox (tests run as root), no GPU, and nothing
// that reaches out to the network on the browser's own account — on a
// closed network those connections are refused and slow every page.
func options(bin, profile string) []chromedp.ExecAllocatorOption {
	return append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
	)
}
