package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// httpListener is one of the node's local HTTP servers, the shell or the
// gateway, and the repo file that tells clients where it is.
type httpListener struct {
	name string // "shell" or "gateway", for errors
	ln   net.Listener
	addr ma.Multiaddr
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
	file string        // the published file, "" until written

	mu      sync.Mutex
	fresh   map[net.Conn]struct{} // connected, no request yet
	closing bool
}

// listen opens address ("host:port"; port 0 picks one).
func listen(name, address string) (*httpListener, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, fmt.Errorf("start %s: listen on %s: %w", name, address, err)
	}
	addr, err := manet.FromNetAddr(ln.Addr())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return &httpListener{name: name, ln: ln, addr: addr}, nil
}

// serve answers with h until close.
func (l *httpListener) serve(h http.Handler) {
	l.fresh = map[net.Conn]struct{}{}
	l.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ConnState: l.track}
	l.srv.RegisterOnShutdown(l.dropFresh)
	l.done = make(chan struct{})
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error(l.name+" stopped", "err", err)
		}
	}()
}

// track remembers connections that have sent no request yet. Browsers
// open such connections ahead of need and leave them; Shutdown counts one
// as busy for its first 5 s, so one browser tab would hold up every close.
func (l *httpListener) track(c net.Conn, st http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case st == http.StateNew && l.closing:
		c.Close()
	case st == http.StateNew:
		l.fresh[c] = struct{}{}
	default:
		delete(l.fresh, c)
	}
}

// dropFresh closes the connections that have sent nothing: a request that
// has not begun when the node stops is refused, as it would be a moment
// later.
func (l *httpListener) dropFresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closing = true
	for c := range l.fresh {
		c.Close()
	}
	clear(l.fresh)
}

// hostPort is the address listened on, e.g. 127.0.0.1:5201.
func (l *httpListener) hostPort() string { return l.ln.Addr().String() }

// publish writes text to path, once the listener is up: a client that
// finds the file can always connect. close removes it.
func (l *httpListener) publish(path, text string) error {
	if err := writeFileSync(path, []byte(text+"\n"), 0o644); err != nil {
		return fmt.Errorf("publish %s address: %w", l.name, err)
	}
	l.file = path
	return nil
}

// close unpublishes the address first, then lets requests in flight end
// within grace before cutting them.
func (l *httpListener) close(grace time.Duration) error {
	var errs []error
	if l.file != "" {
		if err := os.Remove(l.file); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if l.srv == nil {
		return errors.Join(append(errs, l.ln.Close())...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := l.srv.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop %s: %w", l.name, errors.Join(err, l.srv.Close())))
	}
	<-l.done
	return errors.Join(errs...)
}
