package content

import (
	"bufio"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
)

// benchSize is the bytes each benchmark iteration moves: 256 MiB, or
// $CAIRN_BENCH_MB mebibytes (1024 for the 1 GiB figure).
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("CAIRN_BENCH_MB"); s != "" {
		mb, err := strconv.Atoi(s)
		if err != nil || mb <= 0 {
			b.Fatalf("CAIRN_BENCH_MB=%q: want a positive number", s)
		}
		return int64(mb) << 20
	}
	return 256 << 20
}

// randomStream yields n pseudo-random bytes without holding them, so that
// the peak RSS measured is the import's, not the input's.
func randomStream(n int64, seed byte) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// BenchmarkAddGet measures, in one run and over the same bytes: plain
// SHA-256 (the floor any add must pay), Import into a pebble datastore on
// disk, and reading the file back through Node. MB/s comes from SetBytes;
// peak-RSS-MiB is the process's high-water mark during that sub-benchmark
// (reset before each, Linux only). Run with
//
//	go test ./content -run '^$' -bench AddGet -benchtime 1x
func BenchmarkAddGet(b *testing.B) {
	size := benchSize(b)
	ds, err := OpenDatastore(b.TempDir(), true)
	if err != nil {
		b.Fatal(err)
	}
	defer ds.Close()
	c, err := New(b.Context(), nil, nil, ds, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(size)
		resetPeakRSS()
		for b.Loop() {
			h := sha256.New()
			if _, err := io.Copy(h, randomStream(size, 1)); err != nil {
				b.Fatal(err)
			}
		}
		reportPeakRSS(b)
	})
	var root cid.Cid
	b.Run("add", func(b *testing.B) {
		b.SetBytes(size)
		resetPeakRSS()
		for i := 0; b.Loop(); i++ {
			res, err := c.Import(b.Context(), randomStream(size, byte(i+1)), ImportOptions{CIDVersion: -1, Pin: true})
			if err != nil {
				b.Fatal(err)
			}
			root = res.Cid
		}
		reportPeakRSS(b)
	})
	b.Run("get", func(b *testing.B) {
		b.SetBytes(size)
		resetPeakRSS()
		for b.Loop() {
			nd, err := c.Node(b.Context(), root)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, nd.(io.Reader))
			nd.Close()
			if err != nil || n != size {
				b.Fatalf("read %d bytes, %v", n, err)
			}
		}
		reportPeakRSS(b)
	})
}

// resetPeakRSS resets the kernel's record of the process's peak RSS.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// reportPeakRSS reports VmHWM, the peak RSS since the last reset.
func reportPeakRSS(b *testing.B) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err == nil {
				b.ReportMetric(float64(kb)/1024, "peak-RSS-MiB")
			}
		}
	}
}
