// Package shell is the node's local HTTP shell: a subset of Kubo's RPC API
// (/api/v0/...), with the same paths, parameters and JSON shapes, so that
// Kubo's `ipfs --api` CLI and go-ipfs-api clients work against a Cairn node.
package shell

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// apiPrefix is where every Kubo RPC command lives.
const apiPrefix = "/api/v0/"

// handlerFunc serves one command. An error returned before the handler has
// written anything becomes a Kubo JSON error with the status its kind maps
// to; after that, the shell reports it in the X-Stream-Error trailer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// shell serves the RPC commands over a Backend.
type shell struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	routes  map[string]handlerFunc
	pages   *http.ServeMux  // metrics, pprof, the web page (pages.go)
	reqs    *requestMetrics // metrics.go
}

// New returns the shell's HTTP handler, wrapped in its middleware: panic
// recovery, POST-only, origin checks, the access token, body limits and the
// per-request timeout. cfg's zero fields take their documented defaults.
func New(cfg Config, backend Backend) (http.Handler, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("shell config: %w", err)
	}
	if backend == nil {
		return nil, errors.New("shell: backend is nil")
	}
	s := &shell{cfg: cfg, backend: backend, log: cfg.Logger}
	s.routes = map[string]handlerFunc{
		"add":           s.add,
		"cat":           s.cat,
		"get":           s.get,
		"ls":            s.ls,
		"block/get":     s.blockGet,
		"block/put":     s.blockPut,
		"block/stat":    s.blockStat,
		"id":            s.id,
		"swarm/peers":   s.swarmPeers,
		"swarm/connect": s.swarmConnect,
		"dht/findprovs": s.findProvs,
		// Kubo's CLI moved findprovs under routing; both paths answer.
		"routing/findprovs": s.findProvs,
		"version":           s.version,
		"pin/add":           s.pinAdd,
		"pin/rm":            s.pinRm,
		"pin/ls":            s.pinLs,
		"pin/status":        s.pinStatus,
		"repo/gc":           s.repoGC,
		"repo/stat":         s.repoStat,
		"repo/verify":       s.repoVerify,
		"dag/export":        s.dagExport,
		"dag/import":        s.dagImport,
		"stats/provide":     s.statsProvide,
		"swarm/addrs":       s.swarmAddrs,
		"swarm/addrs/local": s.swarmAddrsLocal,
		"stats/dht":         s.statsDHT,
		"stats/bitswap":     s.statsBitswap,
		"bitswap/stat":      s.statsBitswap, // Kubo's older path for stats/bitswap
		"stats/fastpath":    s.statsFastPath,
		// Kubo's config, bootstrap and shutdown (cmd_config.go,
		// bootstrap.go, shutdown.go), and the rest of its swarm, routing,
		// block, dag and pin trees.
		"config":               s.config,
		"config/show":          s.configShow,
		"config/profile/apply": s.configProfileApply,
		"bootstrap":            s.bootstrapList,
		"bootstrap/list":       s.bootstrapList,
		"bootstrap/add":        s.bootstrapAdd,
		"bootstrap/rm":         s.bootstrapRm,
		"bootstrap/rm/all":     s.bootstrapRmAll,
		"shutdown":             s.shutdown,
		"swarm/disconnect":     s.swarmDisconnect,
		"routing/findpeer":     s.findPeer,
		"dht/findpeer":         s.findPeer,
		"routing/provide":      s.provide,
		"dht/provide":          s.provide,
		"block/rm":             s.blockRm,
		"dag/get":              s.dagGet,
		"dag/stat":             s.dagStat,
		"pin/verify":           s.pinVerify,
		// Cairn's view of itself (status.go, stats_bw.go, log.go).
		"stats/bw":  s.statsBW,
		"log/level": s.logLevel,
		"status":    s.status,
	}
	s.reqs = newRequestMetrics()
	s.pages = s.newPages()
	// The gateway has a listener of its own (NewGateway); here /ipfs/ is
	// refused before the API's middleware, whatever the method.
	return s.withRequestMetrics(s.withoutContent(s.middleware(http.HandlerFunc(s.route)))), nil
}

// route dispatches to the command named by the path; anything else gets
// Kubo's 404 text in a JSON error.
func (s *shell) route(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	if page, pattern := s.pages.Handler(r); !ok && pattern != "" {
		page.ServeHTTP(w, r)
		return
	}
	h := s.routes[name]
	if !ok || h == nil {
		writeError(w, errorf(kindUnknownCommand, "404 page not found: no command at %s", r.URL.Path))
		return
	}
	s.serve(tracker(w), r, h)
}

// serve runs h and reports its error in the only place still open.
func (s *shell) serve(w *trackingWriter, r *http.Request, h handlerFunc) {
	err := h(w, r)
	if err == nil {
		return
	}
	if lb, ok := r.Body.(*limitedBody); ok && lb.tooLarge != nil {
		// The backend may have flattened the body's error into a string.
		err = lb.tooLarge
	}
	s.log.Debug("shell: command failed", "path", r.URL.Path, "err", err, "mid-stream", w.wrote)
	if !w.wrote {
		writeError(w, err)
		return
	}
	_, msg := classify(err)
	w.Header().Set(streamErrorHeader, msg)
}
