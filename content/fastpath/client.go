package fastpath

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	libp2phttp "github.com/libp2p/go-libp2p/p2p/http"
)

// errNoGateway is a peer that speaks HTTP over libp2p but does not list
// the gateway protocol.
var errNoGateway = errors.New("peer serves no trustless gateway")

// maxMeta bounds a peer's well-known protocol list.
const maxMeta = 64 << 10

// maxHeaderBytes bounds a response's status line and headers. A gateway's
// come to a few hundred bytes; a peer sending an endless header must not
// make the client hold it all.
const maxHeaderBytes = 64 << 10

// errHeaderTooLarge is a response whose header exceeds maxHeaderBytes.
var errHeaderTooLarge = fmt.Errorf("response header over %d bytes", maxHeaderBytes)

// client makes HTTP requests to peers over libp2p streams. It opens each
// stream itself rather than through libp2phttp's round tripper so that a
// cancelled request resets its stream at once, whether it is waiting for
// headers or in the middle of a body: a stalled provider must not hold a
// fetch.
type client struct {
	host host.Host

	mu     sync.Mutex
	prefix map[peer.ID]string // where each peer serves the gateway
	// learning holds a channel per peer whose well-known request is in
	// flight, closed when it ends: the streams of a fetch that starts on
	// several peers at once wait for one request rather than each send
	// their own.
	learning map[peer.ID]chan struct{}
}

func newClient(h host.Host) *client {
	return &client{host: h, prefix: make(map[peer.ID]string), learning: make(map[peer.ID]chan struct{})}
}

// speaksHTTP reports whether identify has seen p offer HTTP over libp2p.
func (c *client) speaksHTTP(p peer.ID) bool {
	ok, err := c.host.Peerstore().SupportsProtocols(p, libp2phttp.ProtocolIDForMultistreamSelect)
	return err == nil && len(ok) > 0
}

// get sends GET path (with accept) to p's gateway and returns the
// response. The body must be closed; it fails once ctx ends.
func (c *client) get(ctx context.Context, p peer.ID, path, accept string) (*http.Response, error) {
	prefix, err := c.gatewayPrefix(ctx, p)
	if err != nil {
		return nil, err
	}
	return c.do(ctx, p, prefix+path, accept)
}

// knownPrefix is where p serves the gateway, if already learned; else ""
// (the root) and false.
func (c *client) knownPrefix(p peer.ID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	prefix, ok := c.prefix[p]
	return prefix, ok
}

// gatewayPrefix learns, once per peer, where it serves the gateway, from
// its well-known resource (libp2phttp's protocol metadata).
func (c *client) gatewayPrefix(ctx context.Context, p peer.ID) (string, error) {
	for {
		c.mu.Lock()
		prefix, ok := c.prefix[p]
		wait, busy := c.learning[p]
		if !ok && !busy {
			done := make(chan struct{})
			c.learning[p] = done
			c.mu.Unlock()
			defer func() {
				c.mu.Lock()
				delete(c.learning, p)
				c.mu.Unlock()
				close(done)
			}()
			return c.learnPrefix(ctx, p)
		}
		c.mu.Unlock()
		if ok {
			return prefix, nil
		}
		// Another request is learning it; if that one fails, this
		// call asks itself on the next turn.
		select {
		case <-wait:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// learnPrefix asks p's well-known resource where it serves the gateway and
// remembers the answer.
func (c *client) learnPrefix(ctx context.Context, p peer.ID) (string, error) {
	resp, err := c.do(ctx, p, libp2phttp.WellKnownProtocols, "application/json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", libp2phttp.WellKnownProtocols, resp.Status)
	}
	var meta libp2phttp.PeerMeta
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxMeta)).Decode(&meta); err != nil {
		return "", fmt.Errorf("%s: %w", libp2phttp.WellKnownProtocols, err)
	}
	pm, ok := meta[ProtocolID]
	if !ok {
		return "", errNoGateway
	}
	prefix := strings.TrimSuffix(pm.Path, "/")
	c.mu.Lock()
	if len(c.prefix) > 4096 {
		// Peers come and go; relearning costs one request.
		clear(c.prefix)
	}
	c.prefix[p] = prefix
	c.mu.Unlock()
	return prefix, nil
}

// do runs one request on a new stream to p. The stream is reset when ctx
// ends, which fails a read in progress.
func (c *client) do(ctx context.Context, p peer.ID, path, accept string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	req.Host = p.String()
	req.Header.Set("Accept", accept)
	// One request per stream, as libp2phttp does.
	req.Close = true
	s, err := c.host.NewStream(ctx, p, libp2phttp.ProtocolIDForMultistreamSelect)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = s.Reset()
		return nil, err
	}
	if err := req.Write(s); err != nil {
		return fail(err)
	}
	if err := s.CloseWrite(); err != nil {
		return fail(err)
	}
	// Until the header is read, the stream gives at most maxHeaderBytes
	// (read ahead into the buffer counts too, so the bound is on the
	// bytes taken from the peer, header first).
	lim := &headerLimit{r: s, left: maxHeaderBytes}
	resp, err := http.ReadResponse(bufio.NewReaderSize(lim, 64<<10), req)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return fail(err)
	}
	lim.left = -1
	resp.Body = &streamBody{ReadCloser: resp.Body, s: s, stop: stop}
	return resp, nil
}

// headerLimit is a reader that fails with errHeaderTooLarge after left
// bytes; left < 0 is no limit.
type headerLimit struct {
	r    io.Reader
	left int64
}

// Read reads from the stream, failing once the bound is reached.
func (l *headerLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return l.r.Read(p)
	}
	if l.left == 0 {
		return 0, errHeaderTooLarge
	}
	n, err := l.r.Read(p[:min(int64(len(p)), l.left)])
	l.left -= int64(n)
	return n, err
}

// streamBody closes the stream with the body. A body not read to its end
// resets the stream: net/http would otherwise drain it, which waits for
// as long as a stalled peer keeps it open.
type streamBody struct {
	io.ReadCloser
	s    network.Stream
	stop func() bool
	eof  bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *streamBody) Close() error {
	b.stop()
	if !b.eof {
		_ = b.s.Reset()
	}
	err := b.ReadCloser.Close()
	_ = b.s.Close()
	return err
}
