package browser_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/browser"
	"github.com/chromedp/chromedp"
)

// The browser loads a page from a local server and runs its script.
func TestBrowserRunsPageScript(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>t</title><script>document.title = "ran " + (6*7)</script>`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(browser.New(t), time.Minute)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "ran 42" {
		t.Fatalf("title %q, want %q", title, "ran 42")
	}
}
