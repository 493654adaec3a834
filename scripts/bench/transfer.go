package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"

	"github.com/cairnnet/cairn/internal/syncbuf"
)

// transfer is one timed read of a body: how long until its first byte and
// its end, how many bytes, and their SHA-256.
type transfer struct {
	ttfb, total time.Duration
	n           int64
	sum         string
	// childCPU is what a client process (`ipfs cat`) used, beside this
	// one's reading; zero for a body read here.
	childCPU time.Duration
}

// mbps is the transfer's rate in MB/s (10^6 bytes, as ANCHORS.md counts).
func (t transfer) mbps() float64 { return float64(t.n) / t.total.Seconds() / 1e6 }

// check fails unless the transfer carried want's bytes.
func (t transfer) check(what string, size int64, want string) error {
	if t.n != size || t.sum != want {
		return fmt.Errorf("%s: got %d bytes with SHA-256 %.12s…, want %d with %.12s…", what, t.n, t.sum, size, want[:12])
	}
	return nil
}

// bodyClient has no overall timeout: a 1 GiB transfer from Kubo may take a
// while, and the caller's context bounds it. It follows Cairn's gateway
// from /ipfs/CID to the file's own origin, CID.ipfs.localhost, which it
// reaches on 127.0.0.1 as browsers and curl do (Go's resolver would ask
// DNS for it).
var bodyClient = &http.Client{Transport: localhostTransport()}

func localhostTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, port, err := net.SplitHostPort(addr); err == nil && strings.HasSuffix(host, ".localhost") {
			addr = net.JoinHostPort("127.0.0.1", port)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return tr
}

// timedHTTP sends method u and reads the response body into SHA-256, with
// the clock started just before the request goes out.
func timedHTTP(ctx context.Context, method, u string) (transfer, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return transfer{}, err
	}
	start := time.Now()
	resp, err := bodyClient.Do(req)
	if err != nil {
		return transfer{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return transfer{}, fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, msg)
	}
	t, err := timedRead(resp.Body, start)
	if err != nil {
		return transfer{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	return t, nil
}

// timedCommand runs cmd and reads its stdout as timedHTTP reads a body.
func timedCommand(cmd *exec.Cmd) (transfer, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return transfer{}, err
	}
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return transfer{}, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	t, readErr := timedRead(stdout, start)
	if err := cmd.Wait(); err != nil {
		return transfer{}, fmt.Errorf("%s: %w: %s", cmd.Args, err, lastLines(stderr.String(), 3))
	}
	t.childCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return t, readErr
}

// timedRead hashes r to its end in 1 MiB reads, noting when the first
// byte arrived.
func timedRead(r io.Reader, start time.Time) (transfer, error) {
	var t transfer
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if t.n == 0 {
				t.ttfb = time.Since(start)
			}
			t.n += int64(n)
			h.Write(buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return transfer{}, err
		}
	}
	t.total = time.Since(start)
	t.sum = hex.EncodeToString(h.Sum(nil))
	return t, nil
}
