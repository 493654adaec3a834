package shell

import (
	"context"
	"net"
	"net/http"
	"strings"

	"github.com/ipfs/boxo/gateway"
)

// subdomainHost is the one host name whose subdomains are gateway origins,
// {cid}.ipfs.localhost: browsers resolve every name under localhost to the
// loopback address without asking DNS, and treat each as an origin of its
// own (and as a secure context, as they do localhost).
const subdomainHost = "localhost"

// publicGateways is boxo's table of known gateway host names: localhost,
// as a subdomain gateway for /ipfs/ (Kubo's default, without /ipns/: the
// node resolves no names). boxo redirects localhost:PORT/ipfs/{cid}/... to
// {cid}.ipfs.localhost:PORT/... and serves files and listings only there.
func publicGateways() map[string]*gateway.PublicGateway {
	return map[string]*gateway.PublicGateway{
		subdomainHost: {
			Paths:                 []string{"/ipfs"},
			UseSubdomains:         true,
			NoDNSLink:             true,
			DeserializedResponses: true,
		},
	}
}

// withLoopbackRedirect sends a request for content a browser would render
// (anything but a raw block, a CAR or an IPNS record) on a loopback IP,
// such as http://127.0.0.1:PORT/ipfs/{cid}/, to its subdomain origin, by
// handing it to boxo as if addressed to localhost on the same port. Kubo
// serves such requests on 127.0.0.1 itself, every site then sharing one
// origin; Cairn keeps 127.0.0.1 for trustless clients. Other host names
// are left to boxo, which gives them trustless responses only.
func withLoopbackRedirect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions && strings.HasPrefix(r.URL.Path, gatewayPrefix) && !wantsTrustless(r) {
			if host, ok := loopbackAsLocalhost(r.Host); ok {
				r.Host = host
			}
		}
		next.ServeHTTP(w, r)
	})
}

// loopbackAsLocalhost turns "127.0.0.1:PORT" or "[::1]:PORT" into
// "localhost:PORT".
func loopbackAsLocalhost(hostport string) (string, bool) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return "", false
	}
	if port == "" {
		return subdomainHost, true
	}
	return net.JoinHostPort(subdomainHost, port), true
}

// trustlessTypes are the media types of trustless-gateway responses, which
// browsers download and never render (boxo also sends them nosniff).
var trustlessTypes = []string{"application/vnd.ipld.raw", "application/vnd.ipld.car", "application/vnd.ipfs.ipns-record"}

// wantsTrustless reports whether r asks for a trustless response, by ?format=
// or, without one, by Accept, as boxo chooses the response's format.
func wantsTrustless(r *http.Request) bool {
	switch r.URL.Query().Get("format") {
	case "raw", "car", "ipns-record":
		return true
	case "":
		accept := r.Header.Get("Accept")
		for _, t := range trustlessTypes {
			if strings.Contains(accept, t) {
				return true
			}
		}
	}
	return false
}

// withPortlessHostname drops the port from the gateway host name boxo's
// hostname handler records for a request. boxo looks that name up in
// PublicGateways as it stands, so localhost:8201 would miss the
// "localhost" entry and its subdomains get trustless responses only; the
// port is whatever the listener has (0 picks one), so it cannot be listed.
func withPortlessHostname(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := r.Context().Value(gateway.GatewayHostnameKey).(string); ok {
			if host, _, err := net.SplitHostPort(h); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), gateway.GatewayHostnameKey, host))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// withOnlyIPFS answers 404 for anything but /ipfs/ once boxo has turned a
// subdomain into its path: the node resolves no /ipns/ names (that would
// send DNS queries on a caller's behalf) and serves nothing else.
func withOnlyIPFS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, gatewayPrefix) {
			http.Error(w, "404 page not found: the gateway serves /ipfs/{cid} only", http.StatusNotFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}
