package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// BlockStat describes one block.
type BlockStat struct {
	Cid  cid.Cid
	Size int
}

// BlockPutOptions say how a block's CID is built; zero values keep
// Kubo's defaults (raw, sha2-256, not pinned).
type BlockPutOptions struct {
	Codec  string // multicodec name, e.g. "raw", "dag-pb", "dag-cbor"
	MhType string // multihash name, e.g. "sha2-256"
	MhLen  int    // digest length; 0 for the hash's default
	Pin    bool
	// AllowBig lifts the 1 MiB limit (to 64 MiB): peers may refuse the
	// block, as Kubo's allow-big-block warns.
	AllowBig bool
}

func (o BlockPutOptions) query() url.Values {
	q := url.Values{}
	if o.Codec != "" {
		q.Set("cid-codec", o.Codec)
	}
	if o.MhType != "" {
		q.Set("mhtype", o.MhType)
	}
	if o.MhLen > 0 {
		q.Set("mhlen", strconv.Itoa(o.MhLen))
	}
	if o.Pin {
		q.Set("pin", "true")
	}
	if o.AllowBig {
		q.Set("allow-big-block", "true")
	}
	return q
}

// maxBlockRead bounds what BlockGet accepts: 64 MiB, above any block the
// shell will store.
const maxBlockRead = 64 << 20

// BlockGet returns one block's bytes.
func (c *Client) BlockGet(ctx context.Context, id cid.Cid) ([]byte, error) {
	resp, err := c.call(ctx, "block/get", url.Values{"arg": {id.String()}}, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBlockRead+1))
	if err != nil {
		return nil, streamError(err)
	}
	if len(data) > maxBlockRead {
		return nil, fmt.Errorf("block/get: block %s is over %d bytes", id, maxBlockRead)
	}
	return data, nil
}

// BlockPut stores data as one block and returns its CID.
func (c *Client) BlockPut(ctx context.Context, data []byte, opts BlockPutOptions) (BlockStat, error) {
	dir := files.NewSliceDirectory([]files.DirEntry{files.FileEntry("", files.NewBytesFile(data))})
	body := files.NewMultiFileReader(dir, true, false)
	resp, err := c.call(ctx, "block/put", opts.query(), body, "multipart/form-data; boundary="+body.Boundary())
	if err != nil {
		return BlockStat{}, err
	}
	return readBlockStat(resp)
}

// BlockStat reports a block's CID and size, fetching it if need be.
func (c *Client) BlockStat(ctx context.Context, id cid.Cid) (BlockStat, error) {
	resp, err := c.call(ctx, "block/stat", url.Values{"arg": {id.String()}}, nil, "")
	if err != nil {
		return BlockStat{}, err
	}
	return readBlockStat(resp)
}

func readBlockStat(resp *http.Response) (BlockStat, error) {
	var out struct {
		Key  string
		Size int
	}
	if err := readJSON(resp, &out); err != nil {
		return BlockStat{}, err
	}
	c, err := cid.Decode(out.Key)
	if err != nil {
		return BlockStat{}, fmt.Errorf("the shell sent an invalid CID %q: %w", out.Key, err)
	}
	return BlockStat{Cid: c, Size: out.Size}, nil
}
