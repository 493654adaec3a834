package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/go-cid"
)

// DAGExport streams the DAG under root as a CARv1; close the reader when
// done.
func (c *Client) DAGExport(ctx context.Context, root cid.Cid) (io.ReadCloser, error) {
	resp, err := c.call(ctx, "dag/export", url.Values{"arg": {root.String()}}, nil, "")
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// DAGRoot is one root of an imported CAR; PinErrorMsg says why it could
// not be pinned, if it could not.
type DAGRoot struct {
	Cid         cid.Cid
	PinErrorMsg string
}

// DAGImport uploads one CAR, pinning its roots when pinRoots is set, and
// returns its roots.
func (c *Client) DAGImport(ctx context.Context, car io.Reader, pinRoots bool) ([]DAGRoot, error) {
	dir := files.NewSliceDirectory([]files.DirEntry{files.FileEntry("", files.NewReaderFile(car))})
	body := files.NewMultiFileReader(dir, true, false)
	q := url.Values{"pin-roots": {strconv.FormatBool(pinRoots)}}
	resp, err := c.call(ctx, "dag/import", q, body, "multipart/form-data; boundary="+body.Boundary())
	if err != nil {
		return nil, err
	}
	var roots []DAGRoot
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var line struct {
			Root *struct {
				Cid struct {
					Link string `json:"/"`
				}
				PinErrorMsg string
			}
		}
		if err := json.Unmarshal(raw, &line); err != nil {
			return fmt.Errorf("dag/import: decoding response: %w", err)
		}
		if line.Root == nil {
			return nil // a stats line
		}
		id, err := cid.Decode(line.Root.Cid.Link)
		if err != nil {
			return fmt.Errorf("dag/import: the shell sent an invalid CID %q: %w", line.Root.Cid.Link, err)
		}
		roots = append(roots, DAGRoot{Cid: id, PinErrorMsg: line.Root.PinErrorMsg})
		return nil
	})
	return roots, err
}
