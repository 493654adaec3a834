package shell

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// middleware wraps the router, outermost first: every response, a panic's
// included, is tracked and logged; cheap refusals come before any work.
func (s *shell) middleware(next http.Handler) http.Handler {
	h := s.withTimeout(next)
	h = s.withBodyLimit(h)
	h = s.withAuth(h)
	h = s.withOrigin(h)
	h = withPostOnly(h)
	h = s.withRecover(h)
	return s.withLog(h)
}

var _ http.Flusher = (*trackingWriter)(nil)

// trackingWriter remembers whether and what a handler has written, so that
// errors can still become a proper response, or else a trailer.
type trackingWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

// WriteHeader records the first final status.
func (t *trackingWriter) WriteHeader(code int) {
	if !t.wrote && code >= 200 {
		t.status, t.wrote = code, true
	}
	t.ResponseWriter.WriteHeader(code)
}

// Write sends an implicit 200 first, as net/http does, so it is recorded.
func (t *trackingWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(b)
}

// Flush keeps streaming working for code that asserts http.Flusher.
func (t *trackingWriter) Flush() { _ = http.NewResponseController(t.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the server's writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// tracker returns w's trackingWriter, adding one if w has none.
func tracker(w http.ResponseWriter) *trackingWriter {
	if t, ok := w.(*trackingWriter); ok {
		return t
	}
	return &trackingWriter{ResponseWriter: w}
}

func (s *shell) withLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tw := tracker(w)
		next.ServeHTTP(tw, r)
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "shell: request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", tw.status), slog.Duration("took", time.Since(start)))
	})
}

// withRecover turns a handler's panic into a 500 (or a trailer, if the
// response had begun) instead of a dropped connection.
func (s *shell) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			switch {
			case v == nil:
				return
			case v == http.ErrAbortHandler:
				panic(v) // the server's own way to drop a connection
			}
			s.log.Error("shell: handler panicked", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			err := errorf(kindInternal, "internal error serving %s; see the node's log", r.URL.Path)
			if tw := tracker(w); tw.wrote {
				tw.Header().Set(streamErrorHeader, err.Error())
				return
			}
			writeError(w, err)
		}()
		next.ServeHTTP(w, r)
	})
}

// withPostOnly refuses GET and friends as Kubo does: a browser can be made
// to send a GET (an <img> tag) to a local port, never a custom POST.
func withPostOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		// The read-only pages (pages.go) answer GET; the origin rules
		// that follow still apply to them.
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && isPage(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", "OPTIONS, POST")
		writeError(w, errorf(kindMethodNotAllowed, "405 - Method Not Allowed: the API takes POST, not %s", r.Method))
	})
}

// withOrigin refuses browser requests from pages the user did not allow,
// so that a web page cannot drive the local node (CSRF), and answers CORS
// for the pages that are allowed. Only the shell's own pages (its origin)
// and the listed origins pass; no page that came from the network is ever
// served on that origin (the gateway has a port of its own).
func (s *shell) withOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin, fromBrowser := requestOrigin(r)
		if fromBrowser && !s.originAllowed(origin, r.Host) {
			writeError(w, errorf(kindForbidden, "403 - Forbidden: origin %q may not use this API (add it to the shell's AllowedOrigins)", origin))
			return
		}
		if why := s.browserRefusal(r, origin); why != "" {
			writeError(w, errorf(kindForbidden, "403 - Forbidden: %s", why))
			return
		}
		if fromBrowser {
			setCORS(w.Header(), origin)
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "OPTIONS, POST")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// browserRefusal backs up the Origin check with what else a browser says
// about a request, for browsers (or their bugs) that leave Origin out:
//   - Sec-Fetch-Site, which every current browser sends and no page can
//     forge: a request from another site, or another origin of this one
//     (same-site: another port of 127.0.0.1, the gateway's included),
//     passes only from an origin the config lists;
//   - Kubo's rule: a POST from a browser's User-Agent with neither Origin
//     nor Referer is refused.
//
// Clients that are not browsers (curl, `ipfs --api`, go-ipfs-api, cairn)
// send none of these and are not affected.
func (s *shell) browserRefusal(r *http.Request, origin string) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		if !s.originListed(origin) {
			return fmt.Sprintf("a %s request (Sec-Fetch-Site) from %q may not use this API (add its origin to the shell's AllowedOrigins)", site, origin)
		}
	}
	if origin == "" && r.Method == http.MethodPost && strings.HasPrefix(r.UserAgent(), "Mozilla/") {
		return "a browser's request without Origin or Referer may not use this API"
	}
	return ""
}

// requestOrigin reports the page a request came from: its Origin header,
// else the origin of its Referer, as Kubo checks both.
func requestOrigin(r *http.Request) (string, bool) {
	if o := r.Header.Get("Origin"); o != "" {
		return o, true
	}
	ref := r.Referer()
	if ref == "" {
		return "", false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref, true
	}
	return u.Scheme + "://" + u.Host, true
}

// originAllowed accepts listed origins and the shell's own. Its own origin
// counts only when addressed by IP or as localhost: a DNS name could be an
// attacker's, rebound to 127.0.0.1, and would then look same-origin.
func (s *shell) originAllowed(origin, host string) bool {
	if s.originListed(origin) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, host) {
		return false
	}
	name := u.Hostname()
	return strings.EqualFold(name, "localhost") || net.ParseIP(name) != nil
}

// originListed reports whether the config lists origin, or "*".
func (s *shell) originListed(origin string) bool {
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || (origin != "" && strings.EqualFold(o, origin)) {
			return true
		}
	}
	return false
}

func setCORS(h http.Header, origin string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Expose-Headers", "X-Stream-Output, X-Chunked-Output, X-Content-Length")
}

// withAuth requires the bearer token when one is configured.
func (s *shell) withAuth(next http.Handler) http.Handler {
	if s.cfg.AccessToken == "" {
		return next
	}
	want := []byte(s.cfg.AccessToken)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebUI(r.URL.Path) { // static files; the page sends the token
			next.ServeHTTP(w, r)
			return
		}
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		// Constant time, so the token cannot be guessed byte by byte.
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cairn"`)
			writeError(w, errorf(kindUnauthorized, "missing or wrong access token: send \"Authorization: Bearer <token>\""))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitedBody records when the body limit was hit, so that the 413 does not
// depend on every layer below wrapping the error with %w.
type limitedBody struct {
	io.ReadCloser
	tooLarge error
}

// Read reads the body and remembers when it passed the limit.
func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		b.tooLarge = err
	}
	return n, err
}

func (s *shell) withBodyLimit(next http.Handler) http.Handler {
	limit := s.cfg.MaxBodyBytes
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			writeError(w, &http.MaxBytesError{Limit: limit})
			return
		}
		r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(tracker(w).ResponseWriter, r.Body, limit)}
		next.ServeHTTP(w, r)
	})
}

// withTimeout applies Kubo's global "timeout" option to the request's
// context and remembers it, so that errors can name it.
func (s *shell) withTimeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d, err := timeoutParam(r.URL.Query())
		if err != nil {
			writeError(w, err)
			return
		}
		if d > 0 {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			r = r.WithContext(context.WithValue(ctx, timeoutKey{}, d))
		}
		next.ServeHTTP(w, r)
	})
}
