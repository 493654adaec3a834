package shell

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// Headers Kubo's clients look at to decide how to read a response.
const (
	streamErrorHeader   = "X-Stream-Error"   // trailer: an error after the body began
	streamOutputHeader  = "X-Stream-Output"  // the body is raw bytes
	chunkedOutputHeader = "X-Chunked-Output" // the body is a sequence of JSON values
	contentLengthHeader = "X-Content-Length" // the raw body's size, for progress bars
)

// startStream begins a raw byte response, as Kubo sends cat and get.
// length < 0 means unknown.
func startStream(w http.ResponseWriter, length int64) {
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(streamOutputHeader, "1")
	h.Set("Trailer", streamErrorHeader)
	if length >= 0 {
		h.Set(contentLengthHeader, strconv.FormatInt(length, 10))
	}
	w.WriteHeader(http.StatusOK)
}

// writeJSON sends one JSON value as a whole response.
func writeJSON(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b, '\n'))
	return err
}

// jsonStream sends newline-delimited JSON values as Kubo's channel output,
// each flushed as it is emitted. Headers go out with the first value, so
// that an error before it can still be a proper error response.
type jsonStream struct {
	w       http.ResponseWriter
	started bool
}

func (s *jsonStream) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set(chunkedOutputHeader, "1")
	h.Set("Trailer", streamErrorHeader)
	s.w.WriteHeader(http.StatusOK)
}

func (s *jsonStream) emit(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	s.start()
	if _, err := s.w.Write(append(b, '\n')); err != nil {
		return err
	}
	return flush(s.w)
}

// flushWriter flushes after every write, so that a slow stream reaches the
// client as it is produced rather than when a buffer fills.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		return n, err
	}
	return n, flush(f.w)
}

// flush pushes buffered bytes to the client; writers that cannot flush
// still deliver everything at the end, which is correct, only later.
func flush(w http.ResponseWriter) error {
	err := http.NewResponseController(w).Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// streamBuffer is the most copyStream reads before it writes and flushes:
// one 1 MiB leaf. io.Copy's 32 KiB would mean 32 reads, writes, chunk
// headers and flushes per leaf; a read returns what it has, so a slow
// stream still goes out as it comes.
const streamBuffer = 1 << 20

var streamBuffers = sync.Pool{New: func() any { return new([streamBuffer]byte) }}

// copyStream sends r's bytes to w as they are read.
func copyStream(w http.ResponseWriter, r io.Reader) error {
	buf := streamBuffers.Get().(*[streamBuffer]byte)
	defer streamBuffers.Put(buf)
	// Only the writer's methods: a ReaderFrom would bypass the buffer.
	_, err := io.CopyBuffer(struct{ io.Writer }{flushWriter{w}}, struct{ io.Reader }{r}, buf[:])
	return err
}

// fullDuplex lets a handler answer one uploaded file while the client is
// still sending the next: without it, Go's HTTP/1 server stops reading the
// request body at the handler's first write. Defer the returned func: Go's
// server panics on the next keep-alive request if a full-duplex handler
// returns with its body unread (golang/go#68560), so it closes the body,
// which drains what is left up to the server's own limit.
func fullDuplex(w http.ResponseWriter, r *http.Request) (finish func()) {
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		return func() {} // HTTP/2 needs no help
	}
	return func() { _ = r.Body.Close() }
}
