package shell_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestUnknownEndpointIsKubo404(t *testing.T) {
	srv, _ := fakeShell(t)
	for _, path := range []string{"/api/v0/nope", "/api/v0/name/publish", "/api/v0/", "/", "/api/v1/id"} {
		wantError(t, post(t, srv, path), http.StatusNotFound, "404 page not found")
	}
}

func TestGetMethodIs405(t *testing.T) {
	srv, _ := fakeShell(t)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, srv.URL+"/api/v0/id", nil)
		r := do(t, req)
		wantError(t, r, http.StatusMethodNotAllowed, "405 - Method Not Allowed")
		if r.header.Get("Allow") != "OPTIONS, POST" {
			t.Errorf("%s: Allow = %q", method, r.header.Get("Allow"))
		}
	}
}

func TestOrigin(t *testing.T) {
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	tests := []struct {
		name    string
		allowed []string
		headers []string // "Name: value"; SELF is the server's own origin
		host    string   // Host header override
		status  int
	}{
		{"no origin (curl, CLI)", nil, nil, "", http.StatusOK},
		{"foreign page", nil, []string{"Origin: https://evil.example"}, "", http.StatusForbidden},
		{"foreign referer", nil, []string{"Referer: https://evil.example/page"}, "", http.StatusForbidden},
		{"null origin", nil, []string{"Origin: null"}, "", http.StatusForbidden},
		{"own origin", nil, []string{"Origin: SELF"}, "", http.StatusOK},
		{"own origin, same-origin fetch", nil, []string{"Origin: SELF", "Sec-Fetch-Site: same-origin"}, "", http.StatusOK},
		{"listed origin", []string{"https://webui.example"}, []string{"Origin: https://webui.example"}, "", http.StatusOK},
		{"listed origin, cross-site fetch", []string{"https://webui.example"}, []string{"Origin: https://webui.example", "Sec-Fetch-Site: cross-site"}, "", http.StatusOK},
		{"wildcard", []string{"*"}, []string{"Origin: https://any.example"}, "", http.StatusOK},
		// DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host
		// and Origin agree, but the name is not the shell's to vouch for.
		{"rebound name", nil, []string{"Origin: http://evil.example:5201"}, "evil.example:5201", http.StatusForbidden},
		{"localhost", nil, []string{"Origin: http://localhost:5201"}, "localhost:5201", http.StatusOK},
		// The gateway's port is another origin of the same site.
		{"gateway page", nil, []string{"Origin: http://127.0.0.1:8201"}, "127.0.0.1:5201", http.StatusForbidden},
		{"subdomain page", nil, []string{"Origin: http://bafkqaaa.ipfs.localhost:8201"}, "localhost:5201", http.StatusForbidden},
		// A browser that left Origin out still says where the request came from.
		{"same-site fetch without origin", nil, []string{"Sec-Fetch-Site: same-site"}, "", http.StatusForbidden},
		{"cross-site fetch without origin", nil, []string{"Sec-Fetch-Site: cross-site"}, "", http.StatusForbidden},
		{"cross-site fetch with own origin", nil, []string{"Origin: SELF", "Sec-Fetch-Site: cross-site"}, "", http.StatusForbidden},
		{"typed URL", nil, []string{"Sec-Fetch-Site: none"}, "", http.StatusOK},
		// Kubo's rule for a browser's POST that names no page at all.
		{"browser without origin", nil, []string{"User-Agent: " + firefox}, "", http.StatusForbidden},
		{"browser from own page", nil, []string{"User-Agent: " + firefox, "Origin: SELF"}, "", http.StatusOK},
		{"kubo cli", nil, []string{"User-Agent: kubo/0.39.0/"}, "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newShell(t, shell.Config{AllowedOrigins: tt.allowed}, shelltest.New())
			req := newPost(t, srv, "/api/v0/version", nil, "")
			for _, h := range tt.headers {
				k, v, _ := strings.Cut(h, ": ")
				req.Header.Set(k, strings.ReplaceAll(v, "SELF", srv.URL))
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			r := do(t, req)
			if r.status != tt.status {
				t.Fatalf("status = %d, want %d (%s)", r.status, tt.status, r.body)
			}
			if tt.status == http.StatusForbidden {
				wantError(t, r, http.StatusForbidden, "403 - Forbidden")
			}
		})
	}
}

// The RPC port serves no content, whatever the method: a page it served
// would have the API's origin. The answer says where the gateway is.
func TestRPCPortServesNoContent(t *testing.T) {
	srv := newShell(t, shell.Config{GatewayURL: "http://127.0.0.1:8201"}, shelltest.New())
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions} {
		for _, path := range []string{"/ipfs/bafkqaaa", "/ipfs/bafkqaaa/", "/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/index.html?format=raw", "/ipns/example.com"} {
			r := do(t, mustRequest(t, method, srv.URL+path))
			if r.status != http.StatusNotFound {
				t.Fatalf("%s %s: status %d, want 404", method, path, r.status)
			}
			if method != http.MethodHead {
				wantError(t, r, http.StatusNotFound, "the gateway is at http://127.0.0.1:8201")
			}
		}
	}
}

func TestCORSPreflightForListedOrigin(t *testing.T) {
	srv := newShell(t, shell.Config{AllowedOrigins: []string{"https://webui.example"}}, shelltest.New())
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/api/v0/add", nil)
	req.Header.Set("Origin", "https://webui.example")

	r := do(t, req)

	if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "https://webui.example" {
		t.Fatalf("status %d, headers %v", r.status, r.header)
	}
}

func TestAccessToken(t *testing.T) {
	srv := newShell(t, shell.Config{AccessToken: "s3cret"}, shelltest.New())
	tests := []struct {
		auth   string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Basic czNjcmV0", http.StatusUnauthorized},
		{"Bearer s3cret", http.StatusOK},
		{"bearer s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		req := newPost(t, srv, "/api/v0/version", nil, "")
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		r := do(t, req)
		if r.status != tt.status {
			t.Fatalf("Authorization %q: status %d, want %d", tt.auth, r.status, tt.status)
		}
		if tt.status == http.StatusUnauthorized {
			wantError(t, r, http.StatusUnauthorized, "access token")
		}
	}
}

func TestOversizedBodyIs413(t *testing.T) {
	srv := newShell(t, shell.Config{MaxBodyBytes: 1024}, shelltest.New())
	body, ctype := multipartBody(t, namedFile{name: "big", data: bytes.Repeat([]byte{'x'}, 4096)})
	raw := body.Bytes()

	// Declared length: refused before reading.
	r := do(t, newPost(t, srv, "/api/v0/add", bytes.NewReader(raw), ctype))
	wantError(t, r, http.StatusRequestEntityTooLarge, "at most 1024 bytes")

	// Chunked, length unknown: refused when the limit is crossed.
	r = do(t, newPost(t, srv, "/api/v0/add", io.NopCloser(bytes.NewReader(raw)), ctype))
	wantError(t, r, http.StatusRequestEntityTooLarge, "at most 1024 bytes")
}

func TestPanicBecomes500AndServerSurvives(t *testing.T) {
	b := shelltest.New()
	b.Panic = "boom"
	srv := newShell(t, shell.Config{}, b)

	wantError(t, post(t, srv, "/api/v0/id"), http.StatusInternalServerError, "internal error serving /api/v0/id")
	if r := post(t, srv, "/api/v0/version"); r.status != http.StatusOK {
		t.Fatalf("after a panic, version got %d", r.status)
	}
}
