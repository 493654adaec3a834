// Package fastpath moves content between peers as trustless-gateway CAR
// streams over libp2p (HTTP over libp2p streams, go-libp2p's p2p/http), in
// place of Bitswap when both peers speak it.
//
// Bitswap asks for blocks in batches and its client waits at least 20 ms
// before each batch goes out; a CAR stream carries a whole file, or a byte
// range of it, in one response at the speed of the connection. The
// receiver checks every block against the CID its verified parent names
// (content/trustless) before storing it, so a peer can send nothing but the
// right blocks in the right order.
//
// Server answers on Kubo's protocol for its experimental gateway over
// libp2p (/ipfs/gateway, served at "/" through the well-known resource), so
// a Kubo with Experimental.GatewayOverLibp2p can fetch from Cairn and be
// fetched from. Fetcher splits a file across every connected peer that
// holds it.
package fastpath

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/gateway"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/protocol"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
	gostream "github.com/libp2p/go-libp2p/p2p/net/gostream"
)

// ProtocolID names the trustless gateway among a peer's HTTP protocols; the
// same as Kubo's.
const ProtocolID protocol.ID = "/ipfs/gateway"

// serveTimeout bounds how long the server waits for a block it is about to
// send (it serves only what it holds, so the wait is a disk read), for a
// request's header, and for a peer to take the next bytes of a response:
// a peer that stops reading must not hold the serving goroutine and its
// buffers.
const serveTimeout = 10 * time.Second

// Server serves the blocks a node holds to its peers as a trustless
// gateway: raw blocks and CARs, never deserialized files, and never
// fetching from the network on a peer's behalf.
//
// It serves libp2phttp's protocol (HTTP/1.1 on /http/1.1 streams, the
// well-known protocol list) with a plain http.Server over a gostream
// listener, as libp2phttp.Host does inside, rather than through Host.Serve:
// Serve refuses to start while the host has no address of its own (a node
// reachable only through relays), and Server.Close also ends the requests
// in flight.
type Server struct {
	srv  *http.Server
	done chan struct{}
	err  error
	once sync.Once

	served   atomic.Uint64 // response bytes sent (stats.go)
	inflight atomic.Int64  // requests being answered
}

// NewServer starts serving local, a block service that reads the node's
// store without an exchange, to peers of h, until Close.
func NewServer(h host.Host, local blockservice.BlockService) (*Server, error) {
	return newServer(h, local, serveTimeout)
}

// newServer is NewServer with writeIdle, how long one write to a peer may
// wait for it to read.
func newServer(h host.Host, local blockservice.BlockService, writeIdle time.Duration) (*Server, error) {
	backend, err := trustless.NewBackend(local)
	if err != nil {
		return nil, fmt.Errorf("fastpath: %w", err)
	}
	gw := gateway.NewHandler(gateway.Config{
		// Peers verify what they get; nothing else is served to them.
		DeserializedResponses: false,
		NoDNSLink:             true,
		RetrievalTimeout:      serveTimeout,
		MaxConcurrentRequests: gateway.DefaultMaxConcurrentRequests,
		// Turns on boxo's check of the root before a CAR starts, so a
		// peer asking for content this node lacks gets a 404 at once
		// rather than an empty 200 (see shell/gateway.go).
		MaxUnixFSDAGResponseSize: math.MaxInt64,
	}, backend)
	var wk libp2phttp.WellKnownHandler
	wk.AddProtocolMeta(ProtocolID, libp2phttp.ProtocolMeta{Path: "/"})
	s := &Server{done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle(libp2phttp.WellKnownProtocols, &wk)
	// Only content is counted as served, not the protocol list.
	mux.Handle("/ipfs/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
		cw := &countingWriter{ResponseWriter: w, n: &s.served, rc: http.NewResponseController(w), idle: writeIdle}
		if c, ok := rawBlockCID(r); ok && serveRawBlock(cw, r, local, c) {
			return
		}
		gw.ServeHTTP(cw, r)
	}))

	l, err := gostream.Listen(h, libp2phttp.ProtocolIDForMultistreamSelect)
	if err != nil {
		return nil, fmt.Errorf("fastpath: listen: %w", err)
	}
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One request per stream, as libp2phttp serves.
			w.Header().Set("Connection", "close")
			// The client closes its side of the stream once the
			// request is sent, which net/http takes for a client gone
			// and cancels the request's context: the response would
			// stop at its first block. A client that leaves resets the
			// stream, which fails the next write instead.
			mux.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
		}),
		ReadHeaderTimeout: serveTimeout,
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// Close stops serving and ends the requests in flight.
func (s *Server) Close() error {
	s.once.Do(func() {
		closeErr := s.srv.Close()
		<-s.done
		s.err = errors.Join(s.err, closeErr)
	})
	if s.err != nil {
		return fmt.Errorf("fastpath: serve: %w", s.err)
	}
	return nil
}
