package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// config is one benchmark run's settings.
type config struct {
	// Size is the number of random bytes added, fetched and served.
	// Default 1 GiB; --smoke makes it 64 MiB.
	Size int64
	// Runs is how many times each measurement repeats. Default 3.
	Runs int
	// NoKubo skips every Kubo measurement.
	NoKubo bool
	// NoLibtorrent skips the libtorrent columns; otherwise the bench
	// installs python3-libtorrent when it is missing.
	NoLibtorrent bool
	// Smoke marks a 64 MiB, one-run check of the harness itself.
	Smoke bool
	// Profile adds one CPU-profiled Cairn fetch of Size after the runs.
	Profile bool
	// Out is where results.json and chart.png go. Default ./bench-out.
	Out string
	// Root is Cairn's module root. Default ".", as scripts/bench.sh runs
	// from there.
	Root string
	// Kubo is the ipfs binary; empty means scripts/kubo.sh provides it.
	Kubo string
}

func defaultConfig() config {
	return config{Size: 1 << 30, Runs: 3, Out: "bench-out", Root: "."}
}

// fetchMid is the smaller fetch size issue 6 names beside SIZE.
const fetchMid = 256 << 20

func (c config) validate() error {
	switch {
	case c.Size < 1<<20:
		return fmt.Errorf("size %d: need at least 1 MiB", c.Size)
	case c.Runs < 1:
		return fmt.Errorf("runs %d: need at least 1", c.Runs)
	case c.Out == "":
		return errors.New("out: empty")
	}
	return nil
}

// fetchSizes are the fetch measurements: 256 MiB when it is below Size,
// and Size.
func (c config) fetchSizes() []int64 {
	if c.Size > fetchMid {
		return []int64{fetchMid, c.Size}
	}
	return []int64{c.Size}
}

// parseSize reads "1GiB", "256MiB", "64M" or a plain byte count.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n * mult, nil
}

// human prints a byte count in the largest binary unit that divides it.
func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}
