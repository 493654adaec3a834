package shell

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
	"github.com/prometheus/client_golang/prometheus"
)

// gatewayPrefix is where the trustless gateway answers: GET and HEAD of
// /ipfs/{cid}[/path], as the IPFS path gateway spec lays it out.
const gatewayPrefix = "/ipfs/"

// DefaultGatewayTimeout is how long the gateway waits for content it does
// not hold (30 s, boxo's and Kubo's default) when GatewaySource leaves
// RetrievalTimeout at 0: the time to the first byte of a response, and then
// between two writes. Past it the client gets 504 Gateway Timeout.
const DefaultGatewayTimeout = gateway.DefaultRetrievalTimeout

// GatewaySource is what boxo's gateway needs from the node.
type GatewaySource struct {
	// Blocks serves blocks from the local store and fetches missing ones
	// from peers; the gateway verifies and caches them like any fetch.
	Blocks blockservice.BlockService
	// RetrievalTimeout bounds the wait for content; 0 means
	// DefaultGatewayTimeout.
	RetrievalTimeout time.Duration
	// Prefetch, when set, starts fetching the bytes [from, to] (to < 0:
	// to the end) of a file the gateway is about to serve, for the Blocks
	// calls made under the returned context, and done ends it. The node
	// uses it to bring a file over the fast path rather than block by
	// block.
	Prefetch func(ctx context.Context, root cid.Cid, from, to int64) (_ context.Context, done func())
	// Metrics is where boxo's gateway registers its request metrics; nil
	// means a registry of the gateway's own, which nothing serves (boxo's
	// default, the process-wide registry, would clash between nodes).
	Metrics prometheus.Registerer
}

// withoutContent answers every /ipfs/ and /ipns/ path on the RPC port with
// 404, whatever the method, and points to the gateway. A page served from
// the RPC port's origin may drive the API; content from the network must
// never be one (a redirect would work as well for navigations, but would
// keep such links pointing at the API's host).
func (s *shell) withoutContent(api http.Handler) http.Handler {
	where := "its own port (gateway.address in config.yaml)"
	if s.cfg.GatewayURL != "" {
		where = s.cfg.GatewayURL
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, gatewayPrefix) || strings.HasPrefix(r.URL.Path, "/ipns/") {
			writeError(w, errorf(kindUnknownCommand, "404 page not found: the RPC port serves no content; the gateway is at %s", where))
			return
		}
		api.ServeHTTP(w, r)
	})
}

// gatewayMethods are the only methods the gateway accepts: it reads
// content-addressed data. The one trace a request leaves is the blocks it
// fetched, cached unpinned like any fetch; it cannot pin, delete, add or
// configure anything.
const gatewayMethods = "GET, HEAD, OPTIONS"

// NewGateway returns the trustless gateway's HTTP handler over src, for a
// listener of its own: never the shell's, whose origin may drive the API.
// Of cfg it takes the access token (a locked-down node fetches nothing for
// strangers) and the logger.
//
// Content a browser would render (files, directory listings) is served
// only on subdomain origins, http://{cid}.ipfs.localhost:PORT/, one per
// root, as Kubo's localhost gateway does: a page that came from the
// network shares its origin with no other content, and with no page of the
// node's own. Any other host name gets trustless responses alone (raw
// blocks, CARs); a request for more on a loopback IP is redirected to the
// subdomain form (see gateway_hosts.go).
func NewGateway(cfg Config, src GatewaySource) (http.Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	s := &shell{cfg: cfg, log: cfg.Logger}
	return s.newGateway(src)
}

// newGateway builds boxo's handler over src and wraps it: logging and
// panic recovery as for the API, the access token when one is set (the
// gateway makes the node fetch from the network on a caller's behalf, which
// a locked-down shell should not do for strangers), read-only methods, the
// host names that decide what may be served, and CORS open to any origin,
// as public gateways answer.
func (s *shell) newGateway(src GatewaySource) (http.Handler, error) {
	if src.Blocks == nil {
		return nil, errors.New("shell: gateway: no block service")
	}
	// boxo's backend, with our faster CAR writer for whole DAGs.
	backend, err := trustless.NewBackend(src.Blocks)
	if err != nil {
		return nil, fmt.Errorf("shell: gateway: %w", err)
	}
	timeout := src.RetrievalTimeout
	if timeout <= 0 {
		timeout = DefaultGatewayTimeout
	}
	conf := gateway.Config{
		// Trustless responses only, but for the subdomain origins that
		// publicGateways lists: boxo itself refuses a file or a listing
		// on any other host name, whatever the wrappers here decide.
		DeserializedResponses: false,
		PublicGateways:        publicGateways(),
		// Only /ipfs/ is served; no name is ever resolved through DNS.
		NoDNSLink:             true,
		RetrievalTimeout:      timeout,
		MaxConcurrentRequests: gateway.DefaultMaxConcurrentRequests,
		// Not a limit: any value turns on boxo's Head of the root before
		// a CAR stream starts. Without it the CAR header goes out with
		// 200 before the root is known, and content nobody provides gets
		// a truncated 200 instead of 504 (or 404 for a missing path).
		MaxUnixFSDAGResponseSize: math.MaxInt64,
		// A local node does not send its users to a third-party service.
		DiagnosticServiceURL: "",
		MetricsRegistry:      src.Metrics,
	}
	if conf.MetricsRegistry == nil {
		conf.MetricsRegistry = prometheus.NewRegistry()
	}
	var h http.Handler = gateway.NewHandler(conf, backend)
	if src.Prefetch != nil {
		h = withPrefetch(src.Prefetch, h)
	}
	h = withOnlyIPFS(withPortlessHostname(h))
	h = gateway.NewHostnameHandler(conf, backend, h)
	h = withLoopbackRedirect(h)
	h = gateway.NewHeaders(nil).ApplyCors().Wrap(h)
	h = withReadOnly(h)
	h = s.withGatewayAuth(h)
	h = s.withRecover(h)
	return s.withLog(h), nil
}

// withReadOnly refuses every method but GET, HEAD and OPTIONS before the
// gateway sees the request, so that read-only does not rest on boxo alone.
func withReadOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			next.ServeHTTP(w, r)
		default:
			w.Header().Set("Allow", gatewayMethods)
			http.Error(w, fmt.Sprintf("405 - Method Not Allowed: the gateway is read-only and takes %s, not %s", gatewayMethods, r.Method), http.StatusMethodNotAllowed)
		}
	})
}

// withGatewayAuth applies the access token to GET and HEAD; a CORS
// preflight passes, since browsers never attach credentials to one and it
// reveals nothing.
func (s *shell) withGatewayAuth(next http.Handler) http.Handler {
	authed := s.withAuth(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
}

// withPrefetch starts the fetch of the file a GET asks for before the
// gateway reads it: /ipfs/{cid}, its bytes (all, or one Range) or its CAR
// (all, or entity-bytes). Requests for a path inside a DAG, a single block
// or headers alone go as they are.
func withPrefetch(prefetch func(context.Context, cid.Cid, int64, int64) (context.Context, func()), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		root, from, to, ok := prefetchTarget(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		ctx, done := prefetch(r.Context(), root, from, to)
		defer done()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// prefetchTarget reads what a request will read of a file.
func prefetchTarget(r *http.Request) (root cid.Cid, from, to int64, ok bool) {
	rest := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, gatewayPrefix), "/")
	if rest == "" || strings.Contains(rest, "/") {
		return cid.Undef, 0, 0, false
	}
	root, err := cid.Decode(rest)
	if err != nil {
		return cid.Undef, 0, 0, false
	}
	q := r.URL.Query()
	accept := r.Header.Get("Accept")
	switch {
	case q.Get("format") == "raw", q.Get("format") == "ipns-record",
		strings.Contains(accept, "application/vnd.ipld.raw"), q.Get("dag-scope") == "block":
		return cid.Undef, 0, 0, false
	case q.Get("format") == "car" || strings.Contains(accept, "application/vnd.ipld.car"):
		from, to = 0, -1
		if eb := q.Get("entity-bytes"); eb != "" {
			if from, to, ok = parseSpan(eb, ":", "*"); !ok {
				return cid.Undef, 0, 0, false
			}
		}
		return root, from, to, true
	}
	from, to = 0, -1
	if rg, found := strings.CutPrefix(r.Header.Get("Range"), "bytes="); found {
		if from, to, ok = parseSpan(rg, "-", ""); !ok {
			// A suffix or multipart range: the whole file.
			from, to = 0, -1
		}
	}
	return root, from, to, true
}

// parseSpan reads "FROM<sep>TO" with non-negative numbers, TO possibly
// open (end); to is -1 for the end.
func parseSpan(s, sep, end string) (from, to int64, ok bool) {
	a, b, found := strings.Cut(s, sep)
	if !found {
		return 0, 0, false
	}
	from, err := strconv.ParseInt(a, 10, 64)
	if err != nil || from < 0 {
		return 0, 0, false
	}
	if b == end {
		return from, -1, true
	}
	to, err = strconv.ParseInt(b, 10, 64)
	if err != nil || to < from {
		return 0, 0, false
	}
	return from, to, true
}
