package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// eachJSON hands every JSON value of resp's body to next, then closes the
// body. Reading to the end matters: only then is a trailer error known.
func eachJSON(resp *http.Response, next func(raw json.RawMessage) error) error {
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return streamError(err)
		}
		if err := next(raw); err != nil {
			return err
		}
	}
}

// readJSON decodes a response made of one JSON value.
func readJSON(resp *http.Response, v any) error {
	return eachJSON(resp, func(raw json.RawMessage) error {
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("decoding response: %w", err)
		}
		return nil
	})
}

// streamError keeps the shell's own message when it has one.
func streamError(err error) error {
	var shellErr *Error
	if errors.As(err, &shellErr) {
		return shellErr
	}
	return fmt.Errorf("reading response: %w", err)
}
