// Command soak runs a private network of cairn daemons on this machine,
// pins files with a replication factor, then kills and restarts daemons at
// random, checking at every step that each file comes back whole from a
// random live peer and counting its live copies. It writes live.png (the
// live-copy count over time) and results.json (every repair's duration,
// the minimum live count, failed reads) to -out. scripts/soak-replication.sh
// builds cairn and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type config struct {
	cairn    string
	peers    int
	files    int
	size     int
	factor   int
	duration time.Duration
	check    time.Duration
	interval string // replication.check_interval for the daemons
	maxDown  int
	out      string
	seed     uint64
	logLevel string
}

func main() {
	var cfg config
	flag.StringVar(&cfg.cairn, "cairn", "", "the cairn binary (required)")
	flag.IntVar(&cfg.peers, "peers", 30, "daemons to run")
	flag.IntVar(&cfg.files, "files", 5, "files to pin with -factor copies")
	flag.IntVar(&cfg.size, "size", 2<<20, "bytes per file")
	flag.IntVar(&cfg.factor, "factor", 3, "replication factor")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long kills and restarts go on")
	flag.DurationVar(&cfg.check, "check", 3*time.Second, "time between two checks")
	flag.StringVar(&cfg.interval, "check-interval", "3s", "the daemons' replication.check_interval")
	flag.IntVar(&cfg.maxDown, "max-down", 4, "most daemons down at once")
	flag.StringVar(&cfg.out, "out", "soak-out", "directory for live.png and results.json")
	flag.Uint64Var(&cfg.seed, "seed", uint64(time.Now().UnixNano()), "random seed for kills and restarts")
	flag.StringVar(&cfg.logLevel, "log-level", "", "keep the daemons' logs at this level (debug, info…) in OUT/logs")
	flag.Parse()
	if cfg.cairn == "" || cfg.peers < cfg.factor+2 || cfg.factor < 2 {
		log.Fatal("soak: need -cairn, -factor of at least 2 and -peers of at least factor+2")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		log.Fatalf("soak: %v", err)
	}
}

func run(ctx context.Context, cfg config) error {
	tmp, err := os.MkdirTemp("", "cairn-soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return err
	}
	net, err := newNetwork(ctx, cfg, tmp)
	if err != nil {
		return err
	}
	defer net.close()
	log.Printf("soak: %d daemons up, seed %d", cfg.peers, cfg.seed)
	files, err := net.pinFiles(ctx, cfg)
	if err != nil {
		return err
	}
	res := soak(ctx, cfg, net, files)
	if err := res.write(cfg, filepath.Join(cfg.out, "results.json")); err != nil {
		return err
	}
	if err := res.plot(cfg, filepath.Join(cfg.out, "live.png")); err != nil {
		return err
	}
	fmt.Println(res.summary())
	if res.FailedReads > 0 {
		return fmt.Errorf("%d reads failed", res.FailedReads)
	}
	return nil
}
