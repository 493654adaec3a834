package client

import (
	"context"
	"io"
	"net/url"
)

// Call posts the command cmd (a path under /api/v0/, such as "pin/ls")
// with the query q and returns the answer's body, whose final read error
// reports a failure the shell sent mid-stream. The CLI prints it as it
// is for --enc=json; the caller closes it.
func (c *Client) Call(ctx context.Context, cmd string, q url.Values) (io.ReadCloser, error) {
	resp, err := c.call(ctx, cmd, q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
