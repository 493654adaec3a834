package main

import (
	"context"
	"errors"
	"time"
)

// fetchTimeout bounds one fetch: 1 GiB at Kubo's 75 MB/s takes 15 s, so
// ten minutes only catches a stuck transfer.
const fetchTimeout = 10 * time.Minute

// session is what one fresh fetching daemon measured: its resident set
// once connected (idle), time to first byte of each 1 KiB file, the big
// fetch, and its peak resident set at the end.
type session struct {
	idle, peak int64
	ttfb       []time.Duration
	fetch      transfer
	cpu        fetchCPU // of the big fetch
}

// added is a file and its CID on the provider.
type added struct {
	dataFile
	cid string
}

// fetchFunc fetches cid through the fetching daemon n.
type fetchFunc func(ctx context.Context, n node, cid string) (transfer, error)

// rpcCat is /api/v0/cat on the fetching daemon: Cairn's shell or Kubo's RPC.
func rpcCat(ctx context.Context, n node, cid string) (transfer, error) {
	return timedHTTP(ctx, "POST", n.rpcURL()+"/api/v0/cat?arg="+cid)
}

// firstRead starts a fresh fetcher, connects it to provider and times the
// first byte of tiny, its first read.
func firstRead(ctx context.Context, start func(context.Context) (node, error), provider node, tiny added) (d time.Duration, err error) {
	f, err := start(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := connect(ctx, f, provider); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	t, err := rpcCat(ctx, f, tiny.cid)
	if err != nil {
		return 0, err
	}
	return t.ttfb, t.check("1 KiB cat", tiny.size, tiny.sum)
}

// runSession starts a fresh fetcher (so nothing comes from its own store),
// connects it to the provider, and measures. The provider must already
// hold tiny and big.
func runSession(ctx context.Context, start func(context.Context) (node, error), provider node, tiny []added, big added, fetch fetchFunc) (s session, err error) {
	f, err := start(ctx)
	if err != nil {
		return session{}, err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	if err := connect(ctx, f, provider); err != nil {
		return session{}, err
	}
	m, err := readMemory(f.pid())
	if err != nil {
		return session{}, err
	}
	s.idle = m.rss
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	for _, small := range tiny {
		t, err := rpcCat(ctx, f, small.cid)
		if err != nil {
			return session{}, err
		}
		if err := t.check("1 KiB cat", small.size, small.sum); err != nil {
			return session{}, err
		}
		s.ttfb = append(s.ttfb, t.ttfb)
	}
	meter, err := startCPU(provider.pid(), f.pid())
	if err != nil {
		return session{}, err
	}
	if s.fetch, err = fetch(ctx, f, big.cid); err != nil {
		return session{}, err
	}
	used, err := meter.stop()
	if err != nil {
		return session{}, err
	}
	s.cpu = fetchCPU{serving: used[0], fetching: used[1], client: used[2] + s.fetch.childCPU}
	if err := s.fetch.check("fetch", big.size, big.sum); err != nil {
		return session{}, err
	}
	if m, err = readMemory(f.pid()); err != nil {
		return session{}, err
	}
	s.peak = m.hwm
	return s, nil
}
