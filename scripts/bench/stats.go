package main

import (
	"fmt"
	"slices"
)

// Rows and columns of the table; a sample's key is "row/column".
const (
	rowAdd       = "add"
	rowTTFB      = "ttfb"       // the first read after connecting
	rowTTFBLater = "ttfb_later" // the reads after it, on the same connection
	rowIdleRSS   = "idle_rss"
	rowPeakRSS   = "peak_rss"
	rowServeFile = "serve_file"
	rowServeCAR  = "serve_car"
	// CPU-seconds per GiB of the SIZE fetch: the side that serves (the
	// providing daemon, the wire sender), the side that fetches (the
	// fetching daemon, the wire receiver, which is also its client), and
	// the client reading the body (the bench itself, plus `ipfs cat`).
	rowCPUServing  = "cpu_serving"
	rowCPUFetching = "cpu_fetching"
	rowCPUClient   = "cpu_client"
	rowCPUAll      = "cpu_all"

	// File to file (filetofile.go): the rate, and CPU-seconds per GiB
	// of the serving side (providing daemon, seeder), the fetching side
	// (fetching daemon, downloader) and the client (Cairn's CLI).
	rowFile            = "file_to_file"
	rowFileCPUServing  = "file_cpu_serving"
	rowFileCPUFetching = "file_cpu_fetching"
	rowFileCPUClient   = "file_cpu_client"
	rowFileCPUAll      = "file_cpu_all"

	colCairn           = "cairn"
	colLimit           = "limit" // SHA-256 for add, the bare stream for fetch
	colKubo            = "kubo"
	colKuboBest        = "kubo_best"
	colLibtorrent      = "libtorrent"       // on its defaults
	colLibtorrentTuned = "libtorrent_tuned" // disk queue and send buffers raised
)

// columns are the table's columns, in order.
var columns = []string{colCairn, colLimit, colKubo, colKuboBest, colLibtorrent, colLibtorrentTuned}

// keySHA is the single-core SHA-256 pass, the limit column of add.
var keySHA = key(rowAdd, colLimit)

func key(row, col string) string { return row + "/" + col }

// fetchRow names the fetch row of one size.
func fetchRow(size int64) string { return fmt.Sprintf("fetch_%d", size) }

func fetchKey(size int64, col string) string { return key(fetchRow(size), col) }

// samples holds every measured value by key, in the order measured.
type samples map[string][]float64

func (s samples) add(k string, v float64) { s[k] = append(s[k], v) }

// summary is a column's median with its range over the runs.
type summary struct {
	Median  float64   `json:"median"`
	Min     float64   `json:"min"`
	Max     float64   `json:"max"`
	Samples []float64 `json:"samples"`
}

// summarize returns nil for a key never measured (Kubo with --no-kubo).
func (s samples) summarize(k string) *summary {
	v := s[k]
	if len(v) == 0 {
		return nil
	}
	sorted := slices.Sorted(slices.Values(v))
	return &summary{Median: median(sorted), Min: sorted[0], Max: sorted[len(sorted)-1], Samples: v}
}

// median of sorted values; the mean of the middle two for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
