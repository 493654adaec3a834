package shell

import (
	"net/http"
	"strings"
)

// The shell's pages are what it serves outside /api/v0/: metrics, Go's
// profiles and the node's own web page. They answer GET (a scraper, a
// profiler, a browser's address bar) behind the API's origin rules, so a
// page from another origin can neither read them nor frame them.

// newPages returns the mux of the shell's pages.
func (s *shell) newPages() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(MetricsPath, s.metricsHandler())
	addPprof(mux)
	mux.Handle(webUIPath, webUIHandler())
	return mux
}

// isPage reports whether path is one of the shell's pages, which GET may
// read.
func isPage(path string) bool {
	return path == MetricsPath || strings.HasPrefix(path, pprofPath) || isWebUI(path)
}

// isWebUI reports whether path is the web page or one of its files: the
// same for every node, holding nothing of the node's, so served without
// the access token (the page asks for it, to call the API).
func isWebUI(path string) bool {
	return path+"/" == webUIPath || strings.HasPrefix(path, webUIPath)
}
