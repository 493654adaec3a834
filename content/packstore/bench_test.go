package packstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
)

// cpuTime is the user and system CPU the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWriteRead stores 256 MiB as 1 MiB values, then reads them
// back, in packs (direct I/O and buffered) and in flatfs, reporting the
// CPU each costs per GiB besides MB/s: on a shared machine CPU is what
// the rest of a node competes for.
//
//	go test ./content/packstore -run '^$' -bench WriteRead -benchtime 3x
func BenchmarkWriteRead(b *testing.B) {
	const total, size = 256 << 20, 1 << 20
	stores := []struct {
		name string
		open func(b *testing.B) datastore.Batching
	}{
		{"packs-direct", func(b *testing.B) datastore.Batching { return benchPacks(b, false) }},
		{"packs-buffered", func(b *testing.B) datastore.Batching { return benchPacks(b, true) }},
		{"flatfs", func(b *testing.B) datastore.Batching {
			fs, err := flatfs.CreateOrOpen(filepath.Join(b.TempDir(), "blocks"), flatfs.IPFS_DEF_SHARD, false)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { fs.Close() })
			return fs
		}},
	}
	value := make([]byte, size)
	ctx := context.Background()
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			ds := st.open(b)
			// Each round writes new keys, as new content does: rewriting a
			// file's blocks would let flatfs reuse the pages it frees.
			round := 0
			b.Run("write", func(b *testing.B) {
				measureCPU(b, total, func() error {
					round++
					for i := range total / size {
						binary.BigEndian.PutUint64(value, uint64(round<<32|i))
						if err := ds.Put(ctx, datastore.NewKey(fmt.Sprintf("K%d-%d", round, i)), value); err != nil {
							return err
						}
					}
					return nil
				})
			})
			b.Run("read", func(b *testing.B) {
				measureCPU(b, total, func() error {
					for i := range total / size {
						if _, err := ds.Get(ctx, datastore.NewKey(fmt.Sprintf("K%d-%d", round, i))); err != nil {
							return err
						}
					}
					return nil
				})
			})
		})
	}
}

// measureCPU runs op, which moves total bytes, b.N times, reporting the
// CPU it used per GiB.
func measureCPU(b *testing.B, total int64, op func() error) {
	b.SetBytes(total)
	var cpu time.Duration
	for b.Loop() {
		start := cpuTime(b)
		if err := op(); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime(b) - start
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N)*float64(1<<30)/float64(total), "cpu-s/GiB")
}

func benchPacks(b *testing.B, buffered bool) datastore.Batching {
	s, err := Open(b.TempDir(), newIndex(), Options{NoDirectIO: buffered})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
