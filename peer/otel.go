package peer

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// dhtMetrics returns the registry that OpenTelemetry's instruments report
// to: go-libp2p-kad-dht records its RPC counters and latencies (messages
// and bytes in and out by type, request latency, network size) on
// OpenTelemetry's global meter provider, whose instruments are bound to
// the first provider set in the process. So this bridge is one per
// process, set up by the first node, and every node's scrape shows the
// same series: in a daemon, its one DHT's. (Series are distinguished by
// message type only: kad-dht labels them with nothing of the node's.)
var dhtMetrics = sync.OnceValue(func() prometheus.Gatherer {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		slog.Warn("peer: no DHT metrics: OpenTelemetry's Prometheus exporter failed", "err", err)
		return reg
	}
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp)))
	return reg
})
