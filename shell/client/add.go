package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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
	Chunker    string // "size-<bytes>", "rabin-<min>-<avg>-<max>" or "buzhash"
	NoPin      bool   // do not pin the result
	OnlyHash   bool   // compute the CID without storing anything
	// Wrap puts what is added in one unnamed directory, reported last
	// (Kubo's wrap-with-directory).
	Wrap bool
	// Progress asks the shell for progress events, passed to AddNode's
	// callback with Bytes set and no Cid.
	Progress bool
	// Sent, if set, is called with the running count of body bytes sent,
	// for a progress bar of the upload.
	Sent func(total int64)
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
	if o.Wrap {
		q.Set("wrap-with-directory", "true")
	}
	if o.Progress {
		q.Set("progress", "true")
	}
	return q
}

// AddResult describes an added file or directory.
type AddResult struct {
	Name string
	Cid  cid.Cid
	Size uint64 // cumulative size of the DAG, in bytes
}

// AddEvent is one line of add's output: an entry stored (Cid set), or
// with AddOptions.Progress the bytes of a file the shell has read so far.
type AddEvent struct {
	AddResult
	Bytes int64
}

// Add uploads r's bytes as one file called name ("" for none). The upload
// is encoded as it is read, so a file of any size streams through without
// being held in memory. r is not closed.
func (c *Client) Add(ctx context.Context, r io.Reader, name string, opts AddOptions) (AddResult, error) {
	// Hiding any Close method keeps the multipart encoder from closing r.
	file := files.NewReaderFile(struct{ io.Reader }{r})
	return c.AddNode(ctx, name, file, opts, nil)
}

// AddNode uploads a file, symlink or directory tree called name as Kubo's
// CLI does: one multipart part per file and per directory, encoded as it
// is read. Each event the shell sends goes to each (which may be nil); the
// result is the last entry reported, the root of what was added. nd is
// closed.
func (c *Client) AddNode(ctx context.Context, name string, nd files.Node, opts AddOptions, each func(AddEvent) error) (AddResult, error) {
	return c.AddEntries(ctx, []files.DirEntry{files.FileEntry(name, nd)}, opts, each)
}

// AddEntries is AddNode for several top-level entries in one request, as
// `ipfs add a b c` sends them: each is imported on its own (or, with Wrap,
// all in one directory), and the result is the last root reported.
//
// A single regular file goes as its bytes alone (application/octet-stream,
// named in Content-Disposition), which Cairn's shell reads with less work
// than a multipart part; Kubo's RPC takes only multipart.
func (c *Client) AddEntries(ctx context.Context, entries []files.DirEntry, opts AddOptions, each func(AddEvent) error) (AddResult, error) {
	body, h := uploadBody(entries)
	if opts.Sent != nil {
		body = &countingReader{r: body, sent: opts.Sent}
	}
	resp, err := c.callWith(ctx, "add", opts.query(), bulkBody{body}, h)
	if err != nil {
		return AddResult{}, err
	}
	var res AddResult
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var ev struct {
			Name, Hash, Size string
			Bytes            int64
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decoding add result: %w", err)
		}
		out := AddEvent{AddResult: AddResult{Name: ev.Name}, Bytes: ev.Bytes}
		if ev.Hash != "" {
			if out.AddResult, err = parseAddResult(ev.Name, ev.Hash, ev.Size); err != nil {
				return err
			}
			res = out.AddResult
		}
		if each != nil {
			return each(out)
		}
		return nil
	})
	if err == nil && !res.Cid.Defined() {
		err = errors.New("add: the shell reported no CID")
	}
	return res, err
}

// uploadBody encodes entries for add, and gives the headers that say how.
func uploadBody(entries []files.DirEntry) (io.Reader, http.Header) {
	h := http.Header{}
	if len(entries) == 1 {
		f, isFile := entries[0].Node().(files.File)
		if _, isLink := entries[0].Node().(*files.Symlink); isFile && !isLink {
			name := entries[0].Name()
			cd := mime.FormatMediaType("attachment", map[string]string{"filename": name})
			if name == "" || cd != "" {
				h.Set("Content-Type", "application/octet-stream")
				if name != "" {
					h.Set("Content-Disposition", cd)
				}
				return f, h
			}
			// A name the header cannot carry goes in a multipart part.
		}
	}
	mfr := files.NewMultiFileReader(files.NewSliceDirectory(entries), true, false)
	h.Set("Content-Type", "multipart/form-data; boundary="+mfr.Boundary())
	return mfr, h
}

// uploadWriteBuffer is how much of an upload goes to the connection in
// one write: 1 MiB.
const uploadWriteBuffer = 1 << 20

// bulkBody has the HTTP transport send an upload in large writes. Copied
// through the transport's 32 KiB buffer instead, every 32 KiB became a
// chunk of the chunked encoding and three writes to the connection, about
// 100,000 for a 1 GiB add.
type bulkBody struct{ r io.Reader }

func (b bulkBody) Read(p []byte) (int, error) { return b.r.Read(p) }

// WriteTo is what the transport's io.Copy calls instead of Read.
func (b bulkBody) WriteTo(w io.Writer) (int64, error) {
	// Hiding r's own methods keeps CopyBuffer on buf.
	return io.CopyBuffer(w, struct{ io.Reader }{b.r}, make([]byte, uploadWriteBuffer))
}

// countingReader reports the running count of bytes read.
type countingReader struct {
	r    io.Reader
	n    int64
	sent func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.sent(c.n)
	}
	return n, err
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
