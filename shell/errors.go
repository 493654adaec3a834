package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ipfs/go-cid"
)

// kind classifies a failed request. Each kind has exactly one HTTP status
// and one Kubo error code, both in kindTable, so that the mapping from
// errors to responses lives in one place.
type kind int

const (
	kindInternal kind = iota
	kindBadRequest
	kindUnauthorized
	kindForbidden
	kindUnknownCommand
	kindMethodNotAllowed
	kindTooLarge
	kindTimeout
)

// Kubo's cmds.ErrorType values, sent as "Code" in error bodies. Kubo's
// server sends 400 for codeClient and 500 for everything else; the shell
// keeps that pairing and adds the statuses Kubo sends as plain text.
const (
	codeNormal    = 0 // cmds.ErrNormal: the command failed
	codeClient    = 1 // cmds.ErrClient: the request was invalid
	codeForbidden = 4 // cmds.ErrForbidden: the caller may not do this
)

var kindTable = [...]struct{ status, code int }{
	kindInternal:         {http.StatusInternalServerError, codeNormal},
	kindBadRequest:       {http.StatusBadRequest, codeClient},
	kindUnauthorized:     {http.StatusUnauthorized, codeForbidden},
	kindForbidden:        {http.StatusForbidden, codeForbidden},
	kindUnknownCommand:   {http.StatusNotFound, codeClient},
	kindMethodNotAllowed: {http.StatusMethodNotAllowed, codeClient},
	kindTooLarge:         {http.StatusRequestEntityTooLarge, codeClient},
	// 504 rather than Kubo's 500: the node gave up waiting on the network.
	kindTimeout: {http.StatusGatewayTimeout, codeNormal},
}

// apiError is an error that knows which response it deserves. msg is what
// the client sees; err, if any, is kept for errors.Is/As and logs.
type apiError struct {
	kind kind
	msg  string
	err  error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// errorf builds an apiError whose message is fmt.Errorf(format, args...);
// %w verbs keep their causes reachable.
func errorf(k kind, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &apiError{kind: k, msg: err.Error(), err: err}
}

// kuboError is the body of every failed response, in Kubo's shape.
type kuboError struct {
	Message string
	Code    int
	Type    string
}

// classify picks the response for err: its own kind if it has one, 413 for
// a body over the limit wherever that surfaced, else a generic 500.
func classify(err error) (kind, string) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return kindTooLarge, fmt.Sprintf("request body too large: the shell accepts at most %d bytes", tooBig.Limit)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.kind, err.Error()
	}
	return kindInternal, err.Error()
}

// writeError sends err as Kubo's JSON error. It must run before anything
// else was written; later errors go in the X-Stream-Error trailer.
func writeError(w http.ResponseWriter, err error) {
	k, msg := classify(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("X-Stream-Output")
	h.Del("X-Chunked-Output")
	w.WriteHeader(kindTable[k].status)
	_ = json.NewEncoder(w).Encode(kuboError{Message: msg, Code: kindTable[k].code, Type: "error"})
}

// timeoutKey carries the request's timeout parameter in its context, so
// that errors can name it.
type timeoutKey struct{}

// timedOut rewrites err as a timeout error saying "<what> within <timeout>"
// when the request's own timeout expired; otherwise it returns err. Without
// this, users would see only "context deadline exceeded" and could not tell
// a missing CID from a broken node.
func timedOut(ctx context.Context, err error, what string) error {
	d, ok := ctx.Value(timeoutKey{}).(time.Duration)
	if !ok || !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return err
	}
	return &apiError{kind: kindTimeout, msg: fmt.Sprintf("%s within %s", what, d), err: err}
}

// missingBlock is an error that names the block a read of a file waited
// for in vain (content.MissingBlockError is one).
type missingBlock interface{ MissingBlock() cid.Cid }

// fetchError describes a failure to get c from the node or the network,
// naming the block of c that could not be found when the error says.
func fetchError(ctx context.Context, c cid.Cid, err error) error {
	what := fmt.Sprintf("content %s not found", c)
	var mb missingBlock
	if errors.As(err, &mb) && !mb.MissingBlock().Equals(c) {
		what = fmt.Sprintf("block %s of content %s not found", mb.MissingBlock(), c)
	}
	return timedOut(ctx, fmt.Errorf("fetching %s: %w", c, err), what)
}
