package peer

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// nodeMetrics is the node's Prometheus registry, which go-libp2p, boxo's
// gateway and Cairn's own collector fill and /debug/metrics/prometheus
// serves, and libp2p's bandwidth counter (stats/bw). A registry per node,
// never the global one, so that several nodes in one process (tests) do
// not register the same series twice.
type nodeMetrics struct {
	reg *prometheus.Registry
	bw  *metrics.BandwidthCounter

	// What no part of the node counts by itself: the shell's backend
	// observes these as it calls content.
	gcRuns, gcBlocks, gcBytes prometheus.Counter
	verifyFailures            prometheus.Counter
	fetchSeconds              *prometheus.HistogramVec
}

// fetchBuckets span a small file from a peer on the same machine (a few
// milliseconds) to a large one over a slow link (minutes).
var fetchBuckets = prometheus.ExponentialBuckets(0.005, 4, 10)

func newNodeMetrics() *nodeMetrics {
	m := &nodeMetrics{
		reg: prometheus.NewRegistry(),
		bw:  metrics.NewBandwidthCounter(),
		gcRuns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_gc_runs_total", Help: "Garbage collections run (repo gc).",
		}),
		gcBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_gc_freed_blocks_total", Help: "Blocks removed by garbage collection.",
		}),
		gcBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_gc_freed_bytes_total",
			Help: "Bytes of block data the store shrank by during garbage collections (blocks written meanwhile are subtracted).",
		}),
		verifyFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cairn_verify_failures_total", Help: "Stored blocks whose bytes did not match their CID (repo verify).",
		}),
		fetchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cairn_fetch_seconds",
			Help:    "Time to read a file the store did not hold when the read began, from open to its end, by outcome (complete, failed, abandoned).",
			Buckets: fetchBuckets,
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.gcRuns, m.gcBlocks, m.gcBytes, m.verifyFailures, m.fetchSeconds,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// gatherer is what the shell serves: this node's registry and the
// process's DHT metrics (otel.go).
func (m *nodeMetrics) gatherer() prometheus.Gatherer {
	return prometheus.Gatherers{m.reg, dhtMetrics()}
}

// gcRan counts one collection that removed blocks, shrinking the store
// from before to after bytes.
func (m *nodeMetrics) gcRan(blocks int, before, after uint64) {
	m.gcRuns.Inc()
	m.gcBlocks.Add(float64(blocks))
	if before > after {
		m.gcBytes.Add(float64(before - after))
	}
}

// nodeCollector reads, at each scrape, the counters the node's parts keep
// anyway (content's fast path, Bitswap, store and provider statistics,
// the swarm's connections), rather than keeping a second copy of each.
type nodeCollector struct{ n *Node }

var _ prometheus.Collector = nodeCollector{}

// scrapeTimeout bounds the store's part of a scrape.
const scrapeTimeout = 5 * time.Second

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

var (
	fastFetches      = desc("cairn_fastpath_fetches_total", "Fast-path fetches started: a connected peer held the root.")
	fastFiles        = desc("cairn_fastpath_files_fetched_total", "Fast-path fetches that brought all they were asked for.")
	fastFellBack     = desc("cairn_fastpath_fell_back_total", "Fast-path fetches that ended early, leaving the rest to Bitswap.")
	fastBlocks       = desc("cairn_fastpath_blocks_received_total", "Verified blocks received over the fast path.")
	fastBytes        = desc("cairn_fastpath_bytes_received_total", "Bytes of verified blocks received over the fast path.")
	fastDropped      = desc("cairn_fastpath_peers_dropped_total", "Peers dropped from a fast-path fetch: their stream failed, sent a bad block, or stalled.")
	fastServed       = desc("cairn_fastpath_bytes_served_total", "Bytes sent to peers fetching from this node over the fast path.")
	bsBlocksIn       = desc("cairn_bitswap_blocks_received_total", "Blocks received over Bitswap.")
	bsBytesIn        = desc("cairn_bitswap_bytes_received_total", "Bytes of blocks received over Bitswap.")
	bsBlocksOut      = desc("cairn_bitswap_blocks_sent_total", "Blocks sent over Bitswap.")
	bsBytesOut       = desc("cairn_bitswap_bytes_sent_total", "Bytes of blocks sent over Bitswap.")
	bsMessages       = desc("cairn_bitswap_messages_received_total", "Bitswap messages received.")
	bsWants          = desc("cairn_bitswap_wantlist_blocks", "Blocks this node is asking its peers for now.")
	bsPartners       = desc("cairn_bitswap_partners", "Peers Bitswap keeps a ledger for.")
	storeBlocks      = desc("cairn_store_blocks", "Blocks stored.")
	storeBytes       = desc("cairn_store_bytes", "Bytes of block data stored.")
	storeMax         = desc("cairn_store_max_bytes", "content.storage_max; 0 means unlimited.")
	reprovideKeys    = desc("cairn_reprovide_keys_total", "Keys re-announced since the node started.")
	reprovideLast    = desc("cairn_reprovide_last_run_timestamp_seconds", "When the last reprovide run ended (Unix time); 0 if none has run.")
	reprovideTook    = desc("cairn_reprovide_last_duration_seconds", "How long the last reprovide run took.")
	reprovideBatch   = desc("cairn_reprovide_last_batch_keys", "Keys the last reprovide run announced.")
	reprovideEvery   = desc("cairn_reprovide_interval_seconds", "Time between reprovide runs; 0 means the node does not reprovide.")
	peersConnected   = desc("cairn_peers_connected", "Connected peers, by the direction of their first connection.", "direction")
	transfersRunning = desc("cairn_transfers_in_flight", "Reads and exports of content running now through the shell.")
)

// Describe sends every series' description: the set is fixed.
func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{fastFetches, fastFiles, fastFellBack, fastBlocks, fastBytes, fastDropped, fastServed,
		bsBlocksIn, bsBytesIn, bsBlocksOut, bsBytesOut, bsMessages, bsWants, bsPartners,
		storeBlocks, storeBytes, storeMax,
		reprovideKeys, reprovideLast, reprovideTook, reprovideBatch, reprovideEvery,
		peersConnected, transfersRunning} {
		ch <- d
	}
}

// Collect reads each part's counters once.
func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	c.fastPath(ch)
	c.bitswap(ch)
	c.store(ch)
	c.provide(ch)
	c.peers(ch)
	ch <- gauge(transfersRunning, float64(len(c.n.transfers.list())))
}

func counter(d *prometheus.Desc, v uint64) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func (c nodeCollector) fastPath(ch chan<- prometheus.Metric) {
	st := c.n.content.FastPathStats()
	ch <- counter(fastFetches, st.Fetches)
	ch <- counter(fastFiles, st.FilesFetched)
	ch <- counter(fastFellBack, st.FellBack)
	ch <- counter(fastBlocks, st.BlocksReceived)
	ch <- counter(fastBytes, st.BytesReceived)
	ch <- counter(fastDropped, st.PeersDropped)
	ch <- counter(fastServed, st.BytesServed)
}

// bitswap sends nothing on an offline node, which has no Bitswap.
func (c nodeCollector) bitswap(ch chan<- prometheus.Metric) {
	st, err := c.n.content.BitswapStats()
	if err != nil {
		return
	}
	ch <- counter(bsBlocksIn, st.BlocksReceived)
	ch <- counter(bsBytesIn, st.DataReceived)
	ch <- counter(bsBlocksOut, st.BlocksSent)
	ch <- counter(bsBytesOut, st.DataSent)
	ch <- counter(bsMessages, st.MessagesReceived)
	ch <- gauge(bsWants, float64(len(st.Wantlist)))
	ch <- gauge(bsPartners, float64(len(st.Peers)))
}

// store sends nothing once the store is closed.
func (c nodeCollector) store(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.n.content.RepoStat(ctx)
	if err != nil {
		return
	}
	ch <- gauge(storeBlocks, float64(st.NumObjects))
	ch <- gauge(storeBytes, float64(st.RepoSize))
	ch <- gauge(storeMax, float64(st.StorageMax))
}

func (c nodeCollector) provide(ch chan<- prometheus.Metric) {
	st, err := c.n.content.ProvideStats()
	if err != nil {
		return
	}
	var last float64
	if !st.LastRun.IsZero() {
		last = float64(st.LastRun.UnixNano()) / 1e9
	}
	ch <- counter(reprovideKeys, st.TotalReprovides)
	ch <- gauge(reprovideLast, last)
	ch <- gauge(reprovideTook, st.LastReprovideDuration.Seconds())
	ch <- gauge(reprovideBatch, float64(st.LastReprovideBatchSize))
	ch <- gauge(reprovideEvery, st.ReprovideInterval.Seconds())
}

func (c nodeCollector) peers(ch chan<- prometheus.Metric) {
	in, out := peerDirections(c.n)
	ch <- gauge(peersConnected, float64(in), "inbound")
	ch <- gauge(peersConnected, float64(out), "outbound")
}

// peerDirections counts connected peers by their first connection's
// direction.
func peerDirections(n *Node) (in, out int) {
	nw := n.host.Network()
	for _, p := range nw.Peers() {
		conns := nw.ConnsToPeer(p)
		if len(conns) == 0 {
			continue
		}
		if conns[0].Stat().Direction == network.DirInbound {
			in++
		} else {
			out++
		}
	}
	return in, out
}

// observeFetch times a read of content the store lacked (transfers.go).
func (m *nodeMetrics) observeFetch(outcome string, took time.Duration) {
	m.fetchSeconds.WithLabelValues(outcome).Observe(took.Seconds())
}
