package shell_test

import (
	"bytes"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell"
)

// noRedirect sends method to path on the gateway with the Host header set
// to host ("" keeps 127.0.0.1:PORT), without following redirects.
func (f *gatewayFixture) noRedirect(t *testing.T, method, host, path string, header ...string) result {
	t.Helper()
	req := mustRequest(t, method, f.srv.URL+path)
	if host != "" {
		req.Host = host
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := *f.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	return result{status: resp.StatusCode, header: resp.Header, body: body.Bytes()}
}

func (f *gatewayFixture) port() string {
	_, port, _ := net.SplitHostPort(f.srv.Listener.Addr().String())
	return port
}

// A path request for content a browser would render, on a loopback IP or
// on localhost, is sent to the root's own origin, with its path and query;
// the CID there is CIDv1 in base32 whatever form the request used.
func TestGatewayRedirectsToSubdomain(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	v0 := cid.NewCidV0(f.dir.Hash())
	want := f.subdomainURL(f.dir, "/hello.txt?a=b")
	for _, tc := range []struct{ name, method, host, path string }{
		{"127.0.0.1", http.MethodGet, "", "/ipfs/" + f.dir.String() + "/hello.txt?a=b"},
		{"localhost", http.MethodGet, "localhost:" + f.port(), "/ipfs/" + f.dir.String() + "/hello.txt?a=b"},
		{"::1", http.MethodGet, "[::1]:" + f.port(), "/ipfs/" + f.dir.String() + "/hello.txt?a=b"},
		{"cidv0", http.MethodGet, "", "/ipfs/" + v0.String() + "/hello.txt?a=b"},
		{"head", http.MethodHead, "", "/ipfs/" + f.dir.String() + "/hello.txt?a=b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.noRedirect(t, tc.method, tc.host, tc.path)
			wantStatus(t, r, http.StatusMovedPermanently)
			wantHeader(t, r, "Location", want)
		})
	}
	t.Run("followed", func(t *testing.T) {
		r := f.get(t, http.MethodGet, "/ipfs/"+f.dir.String()+"/hello.txt")
		wantStatus(t, r, http.StatusOK)
		if r.url != f.subdomainURL(f.dir, "/hello.txt") || string(r.body) != helloText {
			t.Fatalf("served %q from %s", r.body, r.url)
		}
	})
}

// Trustless requests on 127.0.0.1 are answered there: raw blocks and CARs
// are downloads, never pages.
func TestGatewayTrustlessOnLoopbackIP(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	for name, req := range map[string][2]string{
		"format=raw":  {"/ipfs/" + f.hello.String() + "?format=raw", ""},
		"format=car":  {"/ipfs/" + f.dir.String() + "?format=car", ""},
		"accept raw":  {"/ipfs/" + f.hello.String(), "application/vnd.ipld.raw"},
		"accept car":  {"/ipfs/" + f.dir.String() + "?dag-scope=all", "application/vnd.ipld.car; version=1; order=dfs; dups=n"},
		"car of path": {"/ipfs/" + f.dir.String() + "/hello.txt?format=car", ""},
	} {
		t.Run(name, func(t *testing.T) {
			r := f.noRedirect(t, http.MethodGet, "", req[0], "Accept", req[1])
			wantStatus(t, r, http.StatusOK)
			wantHeader(t, r, "X-Content-Type-Options", "nosniff")
		})
	}
}

// Off the subdomain origins nothing a browser would render is served: a
// host name the gateway does not know (a LAN address, a name rebound to
// 127.0.0.1) gets trustless responses only.
func TestGatewayNoContentOffSubdomains(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	for _, host := range []string{"192.0.2.7:" + f.port(), "evil.example:" + f.port(), "evil.example", "ipfs.localhost:" + f.port()} {
		t.Run(host, func(t *testing.T) {
			r := f.noRedirect(t, http.MethodGet, host, "/ipfs/"+f.hello.String())
			if r.status == http.StatusOK || bytes.Contains(r.body, []byte(helloText)) {
				t.Fatalf("Host %s: served the file (%d)", host, r.status)
			}
			raw := f.noRedirect(t, http.MethodGet, host, "/ipfs/"+f.hello.String()+"?format=raw")
			if host != "ipfs.localhost:"+f.port() {
				wantStatus(t, raw, http.StatusOK)
			}
		})
	}
}

// The gateway serves /ipfs/ alone: no /ipns/ name (resolving one would
// query DNS on a caller's behalf), no other path.
func TestGatewayOnlyIPFS(t *testing.T) {
	f := newGatewayFixture(t, shell.Config{}, time.Second)
	for _, tc := range []struct{ host, path string }{
		{"", "/"},
		{"", "/ipns/example.com"},
		{"", "/ipns/example.com?format=raw"},
		{"localhost:" + f.port(), "/"},
		{"example-com.ipns.localhost:" + f.port(), "/"},
		{"k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8.ipns.localhost:" + f.port(), "/"},
	} {
		r := f.noRedirect(t, http.MethodGet, tc.host, tc.path)
		if r.status != http.StatusNotFound {
			t.Errorf("Host %q %s: status %d, want 404", tc.host, tc.path, r.status)
		}
	}
}
