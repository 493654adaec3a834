package client

import (
	"context"
	"fmt"
	"net/url"

	"github.com/ipfs/go-cid"
)

// Entry types as ls reports them (the UnixFS data types).
const (
	TypeDirectory = 1
	TypeFile      = 2
	TypeSymlink   = 4
)

// LsLink is one entry of a directory.
type LsLink struct {
	Name   string
	Cid    cid.Cid
	Size   uint64 // a file's size; 0 for directories
	Type   int    // TypeDirectory, TypeFile, TypeSymlink, or 0 if unknown
	Target string // a symlink's target
}

// Ls lists the directory id; a file lists as no entries.
func (c *Client) Ls(ctx context.Context, id cid.Cid) ([]LsLink, error) {
	resp, err := c.call(ctx, "ls", url.Values{"arg": {id.String()}}, nil, "")
	if err != nil {
		return nil, err
	}
	var out struct {
		Objects []struct {
			Links []struct {
				Name, Hash, Target string
				Size               uint64
				Type               int
			}
		}
	}
	if err := readJSON(resp, &out); err != nil {
		return nil, err
	}
	var links []LsLink
	for _, o := range out.Objects {
		for _, l := range o.Links {
			k, err := cid.Decode(l.Hash)
			if err != nil {
				return nil, fmt.Errorf("ls: the shell sent an invalid CID %q: %w", l.Hash, err)
			}
			links = append(links, LsLink{Name: l.Name, Cid: k, Size: l.Size, Type: l.Type, Target: l.Target})
		}
	}
	return links, nil
}
