package client

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Error is a failure the shell reported. Its text is the shell's message.
type Error struct {
	// StatusCode is the HTTP status; 0 when the failure came mid-stream,
	// after a 200, in the X-Stream-Error trailer.
	StatusCode int
	// Code is Kubo's error code: 0 for a failed command, 1 for a bad
	// request, 4 for a forbidden one.
	Code    int
	Message string
}

// Error returns the shell's message, unchanged.
func (e *Error) Error() string { return e.Message }

// UnreachableError means nothing answered at the API address, which
// usually means no daemon is running there.
type UnreachableError struct {
	Addr string
	Err  error
}

// Error names the address and why it could not be reached.
func (e *UnreachableError) Error() string { return "cannot reach " + e.Addr + ": " + e.Err.Error() }

// Unwrap returns the dial error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// maxErrorBody bounds how much of an error response is read: 64 KiB.
const maxErrorBody = 64 << 10

// decodeError reads Kubo's JSON error, or failing that the plain text that
// Kubo itself sends for 403, 404 and 405.
func decodeError(resp *http.Response) *Error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &Error{StatusCode: resp.StatusCode}
	var kubo struct {
		Message string
		Code    int
		Type    string
	}
	if json.Unmarshal(body, &kubo) == nil && kubo.Type == "error" && kubo.Message != "" {
		e.Code, e.Message = kubo.Code, kubo.Message
		return e
	}
	e.Message = strings.TrimSpace(string(body))
	if e.Message == "" {
		e.Message = resp.Status
	}
	return e
}
