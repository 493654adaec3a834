package replication

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Stream I/O lives here and nowhere else: one request per stream, written
// then half-closed, one response read to EOF, each bounded in size, the
// stream under a deadline.

// readAll reads a whole message, refusing one over maxMessageSize.
func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxMessageSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxMessageSize {
		return nil, fmt.Errorf("message exceeds %d bytes", maxMessageSize)
	}
	return b, nil
}

// serve answers one request on s.
func (s *Service) serve(str network.Stream) {
	defer str.Close()
	from := str.Conn().RemotePeer()
	if !s.limit.allow(from) {
		str.Reset()
		return
	}
	// A hold lasts as long as its fetch; anything else is quick.
	str.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	b, err := readAll(str)
	if err != nil {
		str.Reset()
		return
	}
	req, root, err := decodeRequest(b)
	if err != nil {
		s.reply(str, &response{Refused: err.Error()})
		return
	}
	timeout := s.cfg.RequestTimeout
	if req.Kind == kindHold {
		timeout = s.cfg.HoldTimeout
	}
	ctx, cancel := context.WithTimeout(s.life, timeout)
	defer cancel()
	str.SetWriteDeadline(time.Now().Add(timeout))
	resp, err := s.handle(ctx, from, req, root)
	if err != nil {
		resp = &response{Refused: err.Error()}
	}
	s.reply(str, resp)
}

func (s *Service) reply(str network.Stream, resp *response) {
	resp.Version = wireVersion
	b, err := encode(resp)
	if err != nil {
		str.Reset()
		return
	}
	if _, err := str.Write(b); err != nil {
		str.Reset()
	}
}

// send makes one request of p and returns its answer; a refusal is an
// error of type *RefusedError.
func (s *Service) send(ctx context.Context, p peer.ID, req *request) (*response, error) {
	timeout := s.cfg.RequestTimeout
	if req.Kind == kindHold && req.Record != nil {
		timeout = s.holdTimeout(req.Record.Size)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	str, err := s.host.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Kind, p, err)
	}
	defer str.Close()
	// The stream gives up with ctx.
	stop := context.AfterFunc(ctx, func() { str.Reset() })
	defer stop()
	req.Version = wireVersion
	b, err := encode(req)
	if err != nil {
		str.Reset()
		return nil, err
	}
	if _, err := str.Write(b); err != nil {
		str.Reset()
		return nil, fmt.Errorf("%s %s: %w", req.Kind, p, err)
	}
	if err := str.CloseWrite(); err != nil {
		str.Reset()
		return nil, fmt.Errorf("%s %s: %w", req.Kind, p, err)
	}
	return s.readResponse(ctx, str, p, req.Kind)
}

func (s *Service) readResponse(ctx context.Context, str network.Stream, p peer.ID, k kind) (*response, error) {
	b, err := readAll(str)
	if err != nil {
		str.Reset()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%s %s: %w", k, p, err)
	}
	resp, err := decodeResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", k, p, err)
	}
	if resp.Refused != "" {
		return resp, &RefusedError{Peer: p, Reason: resp.Refused}
	}
	return resp, nil
}

// holdTimeout is how long an asker waits for a hold of size bytes: 30 s
// and a second per MiB, within hold_timeout. A fetch slower than that is
// stuck, and a repair waiting on it leaves the pin short; the holder goes
// on fetching, and a second ask joins its fetch.
func (s *Service) holdTimeout(size uint64) time.Duration {
	d := 30*time.Second + time.Duration(size>>20)*time.Second
	return min(d, s.cfg.HoldTimeout)
}

// RefusedError is a peer's refusal, with the reason it gave.
type RefusedError struct {
	Peer   peer.ID
	Reason string
}

// Error says who refused and why.
func (e *RefusedError) Error() string { return fmt.Sprintf("%s refused: %s", e.Peer, e.Reason) }

func isRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}

func rootRequest(k kind, root cid.Cid) *request {
	return &request{Kind: k, Root: root.Bytes()}
}
