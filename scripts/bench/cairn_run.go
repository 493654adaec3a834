package main

import (
	"context"
	"errors"
	"time"
)

// runCairn measures Cairn once: add on a fresh provider, serve from its
// gateway, and one fresh fetcher per fetch size.
func (e *env) runCairn(ctx context.Context) (err error) {
	e.logf("cairn: add %s", human(e.cfg.Size))
	a, err := startCairn(ctx, e.cairn, e.tmp, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	start := time.Now()
	big, err := a.add(ctx, e.files[e.cfg.Size].path)
	if err != nil {
		return err
	}
	e.samples.add(key(rowAdd, colCairn), rate(e.cfg.Size, time.Since(start)))
	if err := e.serve(ctx, a, added{e.files[e.cfg.Size], big}, colCairn); err != nil {
		return err
	}
	startFetcher := func(ctx context.Context) (node, error) { return startCairn(ctx, e.cairn, e.tmp, nil) }
	for _, size := range e.cfg.fetchSizes() {
		e.logf("cairn: fetch %s", human(size))
		file := e.files[size]
		cid := big
		if size != e.cfg.Size {
			if cid, err = a.add(ctx, file.path); err != nil {
				return err
			}
		}
		tiny, err := e.tinyOn(ctx, ttfbSamples, func(path string) (string, error) { return a.add(ctx, path) })
		if err != nil {
			return err
		}
		s, err := runSession(ctx, startFetcher, a, tiny, added{file, cid}, rpcCat)
		if err != nil {
			return err
		}
		e.record(size, colCairn, s)
	}
	e.logf("cairn: get -o, file to file %s", human(e.cfg.Size))
	if err := e.getToFile(ctx, a, added{e.files[e.cfg.Size], big}); err != nil {
		return err
	}
	return e.firstReads(ctx, startFetcher, a, func(path string) (string, error) { return a.add(ctx, path) }, colCairn)
}

// firstReadSessions is how many more fresh fetchers each run starts only
// to time their first read after connecting: one per big-fetch session
// alone left that row three samples in a 3-run bench.
const firstReadSessions = 4

// firstReads starts firstReadSessions fresh fetchers in turn; each
// connects to provider and reads one fresh 1 KiB file that add put there.
func (e *env) firstReads(ctx context.Context, start func(context.Context) (node, error), provider node, add func(string) (string, error), col string) error {
	for range firstReadSessions {
		tiny, err := e.tinyOn(ctx, 1, add)
		if err != nil {
			return err
		}
		d, err := firstRead(ctx, start, provider, tiny[0])
		if err != nil {
			return err
		}
		e.samples.add(key(rowTTFB, col), ms(d))
	}
	return nil
}

// ttfbSamples is how many fresh 1 KiB files each session reads for the
// time to first byte: the first right after the connect, the rest one
// after the other. One sample a session moved the median between 2.2 and
// 3.2 ms from run to run.
const ttfbSamples = 5

// tinyOn writes n fresh 1 KiB files and adds each with add.
func (e *env) tinyOn(ctx context.Context, n int, add func(string) (string, error)) ([]added, error) {
	var out []added
	for range n {
		d, err := e.tinyFile()
		if err != nil {
			return nil, err
		}
		cid, err := add(d.path)
		if err != nil {
			return nil, err
		}
		out = append(out, added{d, cid})
	}
	return out, nil
}

// record files one session's figures under col; peak memory counts only
// for the SIZE fetch, the one issue 6 bounds.
func (e *env) record(size int64, col string, s session) {
	e.samples.add(fetchKey(size, col), s.fetch.mbps())
	for i, t := range s.ttfb {
		row := rowTTFBLater
		if i == 0 {
			row = rowTTFB
		}
		e.samples.add(key(row, col), ms(t))
	}
	e.samples.add(key(rowIdleRSS, col), mib(s.idle))
	if size == e.cfg.Size {
		e.samples.add(key(rowPeakRSS, col), mib(s.peak))
		e.recordCPU(col, s.cpu, s.fetch.n)
	}
}

// recordCPU files what the SIZE fetch of n bytes cost each side under col.
func (e *env) recordCPU(col string, c fetchCPU, n int64) {
	e.samples.add(key(rowCPUServing, col), perGiB(c.serving, n))
	e.samples.add(key(rowCPUFetching, col), perGiB(c.fetching, n))
	if c.client > 0 {
		e.samples.add(key(rowCPUClient, col), perGiB(c.client, n))
	}
	e.samples.add(key(rowCPUAll, col), perGiB(c.serving+c.fetching+c.client, n))
}

// serve times the provider's gateway sending the file and its CAR from
// the local store.
func (e *env) serve(ctx context.Context, n node, f added, col string) error {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	t, err := timedHTTP(ctx, "GET", n.gatewayURL()+"/ipfs/"+f.cid)
	if err != nil {
		return err
	}
	if err := t.check("gateway file", f.size, f.sum); err != nil {
		return err
	}
	e.samples.add(key(rowServeFile, col), t.mbps())
	// A CAR carries the file's bytes plus framing and the DAG's inner
	// nodes; its rate counts every byte sent.
	if t, err = timedHTTP(ctx, "GET", n.gatewayURL()+"/ipfs/"+f.cid+"?format=car&dag-scope=all"); err != nil {
		return err
	}
	if t.n < f.size {
		return errors.New("gateway CAR is smaller than the file it carries")
	}
	e.samples.add(key(rowServeCAR, col), t.mbps())
	return nil
}
