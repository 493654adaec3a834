package shell_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/browser"
	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	"github.com/chromedp/chromedp"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// manyPeers is a fake node connected to n peers, each with an address,
// a latency and the protocols identify would have told.
func manyPeers(t *testing.T, n int) (*shelltest.Observed, []string) {
	t.Helper()
	b := shelltest.NewObserved()
	ids := make([]string, n)
	for i := range n {
		_, pub, err := crypto.GenerateEd25519Key(nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := peer.IDFromPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id.String()
		dir := []string{"inbound", "outbound"}[i%2]
		addr := ma.StringCast(fmt.Sprintf("/ip4/10.%d.%d.1/tcp/4001", i/250, i%250))
		b.PeerList = append(b.PeerList, shell.PeerInfo{ID: id, Addr: addr, Direction: dir, Latency: time.Duration(i+1) * time.Millisecond})
		b.Details[id] = shell.PeerDetail{AgentVersion: "kubo/0.39.0", Protocols: []string{"/ipfs/kad/1.0.0", "/ipfs/bitswap/1.2.0", "/ipfs/id/1.0.0"}}
	}
	b.BW[""] = shell.Bandwidth{TotalIn: 5 << 30, TotalOut: 3 << 30, RateIn: 12 << 20, RateOut: 4 << 20}
	slices.Sort(ids)
	return b, ids
}

// The page stays usable with 500 peers: it lists them all but draws only
// the rows in view, finds the last one when scrolled to the end, and
// filters.
func TestWebUIWithFiveHundredPeers(t *testing.T) {
	b, ids := manyPeers(t, 500)
	srv := newShell(t, shell.Config{}, b)
	ctx, cancel := context.WithTimeout(browser.New(t), 2*time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate(srv.URL+"/webui/")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "500 peers listed", "document.getElementById('peer-shown').textContent === '(500)'")
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.querySelectorAll('.peer-row').length"))
	if err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows > 40 {
		t.Errorf("%d peer rows in the page, want a screenful (1 to 40) of 500", rows)
	}
	if dir := os.Getenv("CAIRN_SCREENSHOTS"); dir != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "webui-500-peers.png"), png, 0o644)
		}
		if err != nil {
			t.Error(err)
		}
	}

	last := ids[len(ids)-1]
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("document.getElementById('peers').scrollTop = 1e9")); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the last peer after scrolling", fmt.Sprintf("document.querySelector('[data-peer=%q]') !== null", last))

	if err := chromedp.Do(ctx, chromedp.SendKeys("#peer-filter", ids[7][len(ids[7])-12:])); err != nil {
		t.Fatal(err)
	}
	waitPage(t, ctx, "the filter to leave one peer", "document.getElementById('peer-shown').textContent === '(1 of 500)'")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf("document.querySelector('[data-peer=%q]') !== null", ids[7]))); err != nil {
		t.Errorf("the filtered peer is not shown: %v", err)
	}
}

// waitPage waits for a JavaScript expression to be truthy, within a
// minute.
func waitPage(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.body.innerText.slice(0, 2000)"))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, body)
	}
}
