// Command sim runs Cairn's own DHT, discovery and content packages on
// hundreds to a thousand peers in one process, over go-libp2p's mocknet
// with per-link latency and bandwidth, and reports what lookups cost:
// hops, time, messages and success, with and without churn (issue 18).
//
//	go run ./scripts/sim --peers 1000 --lookups 1000 --churn 0.3 --out DIR
//
// It writes DIR/summary.json, DIR/lookups.json (every lookup),
// DIR/samples.json (the network over time) and the plots hops.png,
// lookup_cdf.png, churn.png and rtfill.png. With --provide-keys K it
// instead compares reproviding K keys from one peer with Cairn's
// ProvideMany and with kad-dht's sweeping provider, into DIR/provide.json.
// The README's Scale section says how to read the figures.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	logging "github.com/ipfs/go-log/v2"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(2)
	}
	if !cfg.Verbose {
		// Libraries log every provide that fails while a peer's routing
		// table is still empty, and every dial to a departed peer.
		logging.SetAllLoggers(logging.LevelFatal)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A second signal kills at once: the orderly stop of a thousand peers
	// takes a while.
	context.AfterFunc(ctx, stop)
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "sim:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.ProvideKeys > 0 {
		err = runProvide(ctx, cfg, os.Stdout)
	} else {
		_, err = run(ctx, cfg, os.Stdout)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}
