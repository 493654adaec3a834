// Command bench measures Cairn against plain SHA-256, a bare go-libp2p
// stream and Kubo on one machine, as issue 6 asks: add, fetch between two
// local daemons, time to first byte, memory, and gateway serving. It prints
// a Markdown table, and writes results.json and chart.png under --out.
//
// Run it from the module root through scripts/bench.sh, or directly:
//
//	go run ./scripts/bench --size 1GiB --runs 3 [--no-kubo] [--smoke]
//
// The program re-executes itself as the sending side of the wire-limit
// measurement (see wire.go); that role is chosen by an environment
// variable, never by a user-facing flag.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if isWireChild() {
		if err := runWireChild(); err != nil {
			fmt.Fprintln(os.Stderr, "bench wire sender:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into a validated config.
func parseFlags(args []string) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	size := fs.String("size", "1GiB", "bytes of random data to add, fetch and serve (units: B, KiB, MiB, GiB)")
	fs.IntVar(&cfg.Runs, "runs", cfg.Runs, "runs of each measurement; the table shows the median and min–max")
	fs.BoolVar(&cfg.NoKubo, "no-kubo", false, "skip the Kubo columns")
	fs.BoolVar(&cfg.NoLibtorrent, "no-libtorrent", false, "skip the libtorrent columns (else python3-libtorrent is installed with apt-get when missing)")
	fs.BoolVar(&cfg.Smoke, "smoke", false, "64 MiB, one run: checks the harness end to end")
	fs.BoolVar(&cfg.Profile, "profile", false, "after the runs, fetch SIZE once more with the fetching Cairn daemon CPU-profiled into OUT/fetch-cpu.pprof")
	fs.StringVar(&cfg.Out, "out", cfg.Out, "directory for results.json and chart.png")
	fs.StringVar(&cfg.Root, "root", cfg.Root, "Cairn's module root (where go build finds package main and scripts/kubo.sh)")
	fs.StringVar(&cfg.Kubo, "kubo", os.Getenv("CAIRN_KUBO"), "Kubo's ipfs binary; empty builds or finds it with scripts/kubo.sh")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	n, err := parseSize(*size)
	if err != nil {
		return config{}, fmt.Errorf("--size: %w", err)
	}
	cfg.Size = n
	if cfg.Smoke {
		cfg.Size, cfg.Runs = 64<<20, 1
	}
	return cfg, cfg.validate()
}
