package client

import (
	"context"
	"io"
	"net/url"
	"strconv"

	"github.com/ipfs/go-cid"
)

// Cat streams the bytes of the file c. A failure after the first bytes
// (Kubo's X-Stream-Error trailer) is the stream's final read error, so a
// reader that reaches io.EOF has the whole file. Close the stream.
func (c *Client) Cat(ctx context.Context, id cid.Cid) (io.ReadCloser, error) {
	return c.CatRange(ctx, id, 0, -1)
}

// CatRange streams up to length bytes of c from offset; length < 0 means
// to the end.
func (c *Client) CatRange(ctx context.Context, id cid.Cid, offset, length int64) (io.ReadCloser, error) {
	q := url.Values{"arg": {id.String()}}
	if offset > 0 {
		q.Set("offset", strconv.FormatInt(offset, 10))
	}
	if length >= 0 {
		q.Set("length", strconv.FormatInt(length, 10))
	}
	resp, err := c.call(ctx, "cat", q, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// Get streams c as a tar archive, as Kubo's get does: a file is one entry
// named by its CID, a directory is that entry and everything under it.
// Errors behave as in Cat.
func (c *Client) Get(ctx context.Context, id cid.Cid) (io.ReadCloser, error) {
	resp, err := c.call(ctx, "get", url.Values{"arg": {id.String()}}, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
