package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// AddOptions are add's import settings. Zero values keep the node's
// defaults (CIDv0, pinned, as in Kubo).
type AddOptions struct {
	CIDVersion *int   // 0 or 1
	RawLeaves  *bool  // raw leaf blocks; CIDv1 implies true unless set
	Chunker    string // "size-<bytes>"
	NoPin      bool   // do not pin the result
	OnlyHash   bool   // compute the CID without storing anything
}

func (o AddOptions) query() url.Values {
	q := url.Values{}
	if o.CIDVersion != nil {
		q.Set("cid-version", strconv.Itoa(*o.CIDVersion))
	}
	if o.RawLeaves != nil {
		q.Set("raw-leaves", strconv.FormatBool(*o.RawLeaves))
	}
	if o.Chunker != "" {
		q.Set("chunker", o.Chunker)
	}
	if o.NoPin {
		q.Set("pin", "false")
	}
	if o.OnlyHash {
		q.Set("only-hash", "true")
	}
	return q
}

// AddResult describes an added file.
type AddResult struct {
	Name string
	Cid  cid.Cid
	Size uint64 // cumulative size of the DAG, in bytes
}

// Add uploads r's bytes as one file called name ("" for none). The upload
// is encoded as it is read, so a file of any size streams through without
// being held in memory. r is not closed.
func (c *Client) Add(ctx context.Context, r io.Reader, name string, opts AddOptions) (AddResult, error) {
	// Hiding any Close method keeps the multipart encoder from closing r.
	file := files.NewReaderFile(struct{ io.Reader }{r})
	dir := files.NewSliceDirectory([]files.DirEntry{files.FileEntry(name, file)})
	body := files.NewMultiFileReader(dir, true, false)
	resp, err := c.call(ctx, "add", opts.query(), body, "multipart/form-data; boundary="+body.Boundary())
	if err != nil {
		return AddResult{}, err
	}
	var res AddResult
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var ev struct{ Name, Hash, Size string }
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decoding add result: %w", err)
		}
		if ev.Hash == "" {
			return nil // a progress event
		}
		res, err = parseAddResult(ev.Name, ev.Hash, ev.Size)
		return err
	})
	if err == nil && !res.Cid.Defined() {
		err = errors.New("add: the shell reported no CID")
	}
	return res, err
}

func parseAddResult(name, hash, size string) (AddResult, error) {
	c, err := cid.Decode(hash)
	if err != nil {
		return AddResult{}, fmt.Errorf("add: the shell sent an invalid CID %q: %w", hash, err)
	}
	n, err := strconv.ParseUint(size, 10, 64)
	if err != nil {
		return AddResult{}, fmt.Errorf("add: the shell sent an invalid size %q: %w", size, err)
	}
	return AddResult{Name: name, Cid: c, Size: n}, nil
}
