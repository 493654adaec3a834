package content

import (
	"syscall"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// BenchmarkServeBlocks stores 256 MiB (or $CAIRN_BENCH_MB) as 1 MiB raw
// blocks in a repo on disk, then reads them back through the blockstore
// stack that Bitswap and the fast path serve from, reporting the CPU the
// reads cost per GiB: the serving side's share of a fetch.
//
//	go test ./content -run '^$' -bench ServeBlocks -benchtime 3x
func BenchmarkServeBlocks(b *testing.B) {
	size := benchSize(b)
	c, _ := diskContent(b, b.TempDir(), nil, nil, DefaultConfig())
	const blockSize = 1 << 20
	var ks []cid.Cid
	src := randomStream(size, 7)
	for range size / blockSize {
		data := make([]byte, blockSize)
		if _, err := src.Read(data); err != nil {
			b.Fatal(err)
		}
		k, err := cid.Prefix{Version: 1, Codec: cid.Raw, MhType: 0x12, MhLength: -1}.Sum(data)
		if err != nil {
			b.Fatal(err)
		}
		blk, _ := blocks.NewBlockWithCid(data, k)
		if err := c.bstore.Put(b.Context(), blk); err != nil {
			b.Fatal(err)
		}
		ks = append(ks, k)
	}
	b.SetBytes(size)
	var cpu time.Duration
	for b.Loop() {
		start := processCPU(b)
		for _, k := range ks {
			if _, err := c.bstore.Get(b.Context(), k); err != nil {
				b.Fatal(err)
			}
		}
		cpu += processCPU(b) - start
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N)*float64(1<<30)/float64(size), "cpu-s/GiB")
}

// processCPU is the user and system CPU the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
