// Package client is a small Go client of Cairn's HTTP shell, used by the
// cairn CLI. It speaks the Kubo RPC subset the shell serves, so it also
// works against a Kubo daemon for the same commands.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// timeoutGrace is how much longer than its timeout a request waits: the
// shell stops at the timeout and explains what it could not do in time,
// and that explanation beats the client's own "deadline exceeded".
const timeoutGrace = 5 * time.Second

// Client calls one shell. It is safe for concurrent use.
type Client struct {
	addr    string // as given to New, for error messages
	base    string // "http://host:port"
	http    *http.Client
	token   string
	timeout time.Duration
}

// Option configures a Client.
type Option func(*Client) error

// WithToken sends "Authorization: Bearer <token>" on every request.
func WithToken(token string) Option {
	return func(c *Client) error {
		c.token = token
		return nil
	}
}

// WithHTTPClient replaces http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("nil HTTP client")
		}
		c.http = hc
		return nil
	}
}

// WithTimeout bounds every request to d: the shell receives it as Kubo's
// timeout parameter, and the client gives up a few seconds after.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("negative timeout %s", d)
		}
		c.timeout = d
		return nil
	}
}

// New returns a client of the shell at api: a multiaddr such as
// /ip4/127.0.0.1/tcp/5201 (as written in the repo's api file), or a URL
// such as http://127.0.0.1:5201.
func New(api string, opts ...Option) (*Client, error) {
	base, err := baseURL(api)
	if err != nil {
		return nil, fmt.Errorf("invalid API address %q: %w", api, err)
	}
	c := &Client{addr: api, base: base, http: http.DefaultClient}
	for _, opt := range opts {
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("client option: %w", err)
		}
	}
	return c, nil
}

// baseURL turns an API address into the URL requests are sent to.
func baseURL(api string) (string, error) {
	switch {
	case api == "":
		return "", errors.New("empty address")
	case strings.HasPrefix(api, "/"):
		return multiaddrURL(api)
	case strings.Contains(api, "://"):
		u, err := url.Parse(api)
		if err != nil {
			return "", err
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return "", errors.New("want http://host:port or https://host:port")
		}
		return u.Scheme + "://" + u.Host, nil
	default:
		if _, _, err := net.SplitHostPort(api); err != nil {
			return "", err
		}
		return "http://" + api, nil
	}
}

// multiaddrURL reads a TCP multiaddr, optionally ending in /http, /https
// or /tls/http as Kubo's api files sometimes do.
func multiaddrURL(s string) (string, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return "", err
	}
	network, hostport, err := manet.DialArgs(m)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(network, "tcp") {
		return "", fmt.Errorf("the shell speaks HTTP over TCP, not %s", network)
	}
	scheme := "http"
	for _, c := range m {
		if c.Code() == ma.P_HTTPS || c.Code() == ma.P_TLS {
			scheme = "https"
		}
	}
	return scheme + "://" + hostport, nil
}

// call posts one command. A response that is not a success becomes an
// *Error; a successful body reports a mid-stream failure (Kubo's
// X-Stream-Error trailer) as its final read error.
func (c *Client) call(ctx context.Context, cmd string, q url.Values, body io.Reader, contentType string) (*http.Response, error) {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return c.callWith(ctx, cmd, q, body, h)
}

// callWith is call with the request's headers given whole.
func (c *Client) callWith(ctx context.Context, cmd string, q url.Values, body io.Reader, h http.Header) (*http.Response, error) {
	req, cancel, err := c.newRequest(ctx, cmd, q, body)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, c.transportError(cmd, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		return nil, decodeError(resp)
	}
	resp.Body = &streamBody{resp: resp, body: resp.Body, cancel: cancel}
	return resp, nil
}

// newRequest builds the POST for cmd, bounded by the client's timeout; the
// returned cancel ends it.
func (c *Client) newRequest(ctx context.Context, cmd string, q url.Values, body io.Reader) (*http.Request, context.CancelFunc, error) {
	if q == nil {
		q = url.Values{}
	}
	var cancel context.CancelFunc
	if c.timeout > 0 {
		q.Set("timeout", c.timeout.String())
		ctx, cancel = context.WithTimeout(ctx, c.timeout+timeoutGrace)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v0/"+cmd+"?"+q.Encode(), body)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s: %w", cmd, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, cancel, nil
}

// transportError tells "nothing is listening" apart from other failures,
// since the first one usually means the daemon is not running.
func (c *Client) transportError(cmd string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return &UnreachableError{Addr: c.addr, Err: err}
	}
	return fmt.Errorf("%s: %w", cmd, err)
}

// streamBody ends the request's context when closed and turns Kubo's
// X-Stream-Error trailer into the body's final error.
type streamBody struct {
	resp   *http.Response
	body   io.ReadCloser
	cancel context.CancelFunc
}

func (b *streamBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if errors.Is(err, io.EOF) {
		// Trailers are only known once the body has been read to its end.
		if msg := b.resp.Trailer.Get("X-Stream-Error"); msg != "" {
			return n, &Error{Message: msg}
		}
	}
	return n, err
}

func (b *streamBody) Close() error {
	defer b.cancel()
	return b.body.Close()
}
