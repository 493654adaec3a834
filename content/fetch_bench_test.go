package content

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	flatfs "github.com/ipfs/go-ds-flatfs"

	"github.com/cairnnet/cairn/internal/p2ptest"
	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
)

// BenchmarkFetch measures a whole-file read on a peer that holds none of
// it, from a connected peer over loopback TCP, for several stores on the
// fetching side: it shows what storing fetched blocks costs
// against the exchange itself. Size from CAIRN_BENCH_MB (default 256).
//
//	go test ./content -run '^$' -bench Fetch -benchtime 3x
func BenchmarkFetch(b *testing.B) {
	size := benchSize(b)
	stores := []struct {
		name string
		open func(b *testing.B) datastore.Batching
	}{
		{"memory", func(*testing.B) datastore.Batching { return NewMemoryDatastore() }},
		{"packs-durable", func(b *testing.B) datastore.Batching { return openBenchStore(b, true, false) }},
		{"packs", func(b *testing.B) datastore.Batching { return openBenchStore(b, false, false) }},
		{"flatfs-durable", func(b *testing.B) datastore.Batching { return openBenchStore(b, true, true) }},
		{"flatfs", func(b *testing.B) datastore.Batching { return openBenchStore(b, false, true) }},
	}
	for _, fast := range []bool{false, true} {
		for _, st := range stores {
			name := "bitswap/" + st.name
			if fast {
				name = "fastpath/" + st.name
			}
			b.Run(name, func(b *testing.B) { benchFetch(b, size, fast, false, st.open) })
		}
	}
	// Into a file (WriteFileTo, as `cairn get -o` does), from a store on
	// disk.
	b.Run("fastpath-file/packs", func(b *testing.B) { benchFetch(b, size, true, true, stores[2].open) })
}

// benchFetch times one peer reading a file of size from another over
// Bitswap (found through the router) or the fast path (connected).
func benchFetch(b *testing.B, size int64, fast, toFile bool, open func(*testing.B) datastore.Batching) {
	routing := newFakeRouting()
	hA := benchHost(b)
	a := benchContent(b, hA, routing.routerFor(hA), NewMemoryDatastore(), fast)
	res, err := a.Import(b.Context(), randomStream(size, 9), ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		b.Fatal(err)
	}
	routing.waitAnnounced(b, res.Cid)
	b.SetBytes(size)
	var use usage
	for b.Loop() {
		b.StopTimer()
		hB := benchHost(b)
		fetcher := benchContent(b, hB, routing.routerFor(hB), open(b), fast)
		if fast {
			p2ptest.ConnectIdentified(b, hB, hA)
		}
		b.StartTimer()
		before := takeUsage(b)
		if n, err := fetchOnce(b, fetcher, res.Cid, toFile); err != nil || n != size {
			b.Fatalf("read %d of %d bytes: %v", n, size, err)
		}
		b.StopTimer()
		use.add(takeUsage(b).minus(before))
		if st, err := fetcher.bswap.Stat(); err != nil || (fast && st.BlocksReceived > 0) {
			b.Fatalf("fast path not used: %d blocks through Bitswap (%v)", st.BlocksReceived, err)
		}
		fetcher.Close()
		hB.Close()
		b.StartTimer()
	}
	use.report(b, size*int64(b.N))
}

// usage is the CPU time and minor page faults the process has taken:
// the whole fetch, both peers, runs in it.
type usage struct {
	cpu    time.Duration
	faults int64
}

func takeUsage(b *testing.B) usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return usage{time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Minflt}
}

func (u usage) minus(o usage) usage { return usage{u.cpu - o.cpu, u.faults - o.faults} }

func (u *usage) add(o usage) { u.cpu += o.cpu; u.faults += o.faults }

// report gives CPU-seconds and page faults per GiB moved.
func (u usage) report(b *testing.B, bytes int64) {
	gib := float64(bytes) / (1 << 30)
	b.ReportMetric(u.cpu.Seconds()/gib, "cpu-s/GiB")
	b.ReportMetric(float64(u.faults)/gib, "faults/GiB")
}

// fetchOnce reads root through c, to its end or, with toFile, into a new
// file.
func fetchOnce(b *testing.B, c *Content, root cid.Cid, toFile bool) (int64, error) {
	if toFile {
		out, err := os.Create(filepath.Join(b.TempDir(), "out"))
		if err != nil {
			b.Fatal(err)
		}
		defer out.Close()
		return c.WriteFileTo(b.Context(), root, out)
	}
	nd, err := c.Node(b.Context(), root)
	if err != nil {
		b.Fatal(err)
	}
	defer nd.Close()
	return io.Copy(io.Discard, nd.(files.File))
}

// openBenchStore opens a datastore on disk, with blocks in packs or, as a
// repo made before packs has them, in flatfs.
func openBenchStore(b *testing.B, sync, flat bool) datastore.Batching {
	dir := b.TempDir()
	if flat {
		fs, err := flatfs.CreateOrOpen(filepath.Join(dir, blocksDir), flatfs.IPFS_DEF_SHARD, false)
		if err != nil {
			b.Fatal(err)
		}
		fs.Close()
	}
	ds, err := OpenDatastore(dir, sync)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ds.Close() })
	return ds
}

func benchHost(b *testing.B) host.Host {
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func benchContent(b *testing.B, h host.Host, r Router, ds datastore.Batching, fast bool) *Content {
	cfg := DefaultConfig()
	cfg.FastPath = fast
	c, err := New(b.Context(), h, r, ds, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}
