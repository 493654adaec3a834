package shell

import (
	"embed"
	"io/fs"
	"net/http"
)

// webUIPath is where the node's web page lives on the shell's origin.
const webUIPath = "/webui/"

// webUI is the page: plain HTML, CSS and JavaScript, no build step and
// nothing fetched from elsewhere, so it works offline and reads as it
// runs.
//
//go:embed webui
var webUI embed.FS

// webUIPolicy confines the page to its own files and the shell's API: no
// inline script, no other origin's script, style or connection, and no
// framing by another page (which could trick clicks on it).
const webUIPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// webUIHandler serves the page's files under webUIPath.
func webUIHandler() http.Handler {
	sub, err := fs.Sub(webUI, "webui")
	if err != nil {
		panic(err) // the directory is embedded at build time
	}
	files := http.StripPrefix(webUIPath, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", webUIPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		// Not no-referrer: under it a browser sends "Origin: null" with
		// the page's own POSTs, which the origin check refuses.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
