package main

import (
	"context"
	"errors"
	"time"
)

// runKubo measures Kubo once, as runCairn does Cairn: its default import
// (CIDv0, 256 KiB chunks) fetched with `ipfs cat`, and its best (1 MiB raw
// leaves, CIDv1) fetched through the RPC cat.
func (e *env) runKubo(ctx context.Context) (err error) {
	e.logf("kubo: add %s", human(e.cfg.Size))
	k, err := startKubo(ctx, e.kubo, e.tmp)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, k.Close()) }()
	file := e.files[e.cfg.Size]
	start := time.Now()
	def, err := k.add(ctx, file.path)
	if err != nil {
		return err
	}
	e.samples.add(key(rowAdd, colKubo), rate(e.cfg.Size, time.Since(start)))
	start = time.Now()
	best, err := k.add(ctx, file.path, kuboBestAdd...)
	if err != nil {
		return err
	}
	e.samples.add(key(rowAdd, colKuboBest), rate(e.cfg.Size, time.Since(start)))
	if err := e.serve(ctx, k, added{file, def}, colKubo); err != nil {
		return err
	}
	startFetcher := func(ctx context.Context) (node, error) { return startKubo(ctx, e.kubo, e.tmp) }
	cliCat := func(ctx context.Context, n node, cid string) (transfer, error) {
		return timedCommand(n.(*kuboNode).catCommand(ctx, cid))
	}
	for _, size := range e.cfg.fetchSizes() {
		f := e.files[size]
		cids := [2]string{def, best}
		if size != e.cfg.Size {
			if cids[0], err = k.add(ctx, f.path); err != nil {
				return err
			}
			if cids[1], err = k.add(ctx, f.path, kuboBestAdd...); err != nil {
				return err
			}
		}
		for i, m := range []struct {
			col   string
			fetch fetchFunc
		}{{colKubo, cliCat}, {colKuboBest, rpcCat}} {
			e.logf("%s: fetch %s", m.col, human(size))
			tiny, err := e.tinyOn(ctx, ttfbSamples, func(path string) (string, error) { return k.add(ctx, path) })
			if err != nil {
				return err
			}
			s, err := runSession(ctx, startFetcher, k, tiny, added{f, cids[i]}, m.fetch)
			if err != nil {
				return err
			}
			e.record(size, m.col, s)
		}
	}
	add := func(path string) (string, error) { return k.add(ctx, path) }
	for _, col := range []string{colKubo, colKuboBest} {
		if err := e.firstReads(ctx, startFetcher, k, add, col); err != nil {
			return err
		}
	}
	return nil
}
