package shell

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where Prometheus scrapes the node, Kubo's path. Like
// the other read-only pages (pprof, the web page) it answers GET, behind
// the API's origin rules and access token.
const MetricsPath = "/debug/metrics/prometheus"

// requestMetrics count the shell's requests by endpoint and status, and
// time them by endpoint. Streams (cat, get, add) are timed to their end.
type requestMetrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newRequestMetrics() *requestMetrics {
	m := &requestMetrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cairn_shell_requests_total",
			Help: "Requests to the shell, by endpoint (the command, or the page's path) and HTTP status.",
		}, []string{"endpoint", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_shell_request_duration_seconds",
			Help:    "Time from a shell request's arrival to the end of its response, by endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
		}, []string{"endpoint"}),
	}
	m.reg.MustRegister(m.requests, m.seconds)
	return m
}

// withRequestMetrics observes every request, refusals included.
func (s *shell) withRequestMetrics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tw := tracker(w)
		next.ServeHTTP(tw, r)
		endpoint := s.endpoint(r)
		status := tw.status
		if status == 0 {
			status = http.StatusOK // nothing written: net/http sends 200
		}
		s.reqs.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
		s.reqs.seconds.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	})
}

// endpoint names what a request asked for with a bounded set of values:
// a command's name, a page's pattern, or "unknown".
func (s *shell) endpoint(r *http.Request) string {
	if name, ok := strings.CutPrefix(r.URL.Path, apiPrefix); ok {
		if s.routes[name] != nil {
			return name
		}
		return "unknown"
	}
	if _, pattern := s.pages.Handler(r); pattern != "" {
		return pattern
	}
	return "unknown"
}

// metricsHandler serves the shell's request metrics and cfg.Metrics in
// Prometheus' text format. A series registered twice fails the scrape
// (500) rather than being dropped unseen.
func (s *shell) metricsHandler() http.Handler {
	g := prometheus.Gatherers{s.reqs.reg}
	if s.cfg.Metrics != nil {
		g = append(g, s.cfg.Metrics)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
