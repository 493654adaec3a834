package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ipfs/go-cid"
)

// RepoGC collects garbage on the daemon, calling removed (if not nil) for
// each block removed as the daemon reports it.
func (c *Client) RepoGC(ctx context.Context, removed func(cid.Cid) error) error {
	resp, err := c.call(ctx, "repo/gc", nil, nil, "")
	if err != nil {
		return err
	}
	return eachJSON(resp, func(raw json.RawMessage) error {
		var line struct {
			Key struct {
				Link string `json:"/"`
			}
			Error string
		}
		if err := json.Unmarshal(raw, &line); err != nil {
			return fmt.Errorf("repo/gc: decoding response: %w", err)
		}
		if line.Error != "" {
			return &Error{Message: line.Error}
		}
		id, err := cid.Decode(line.Key.Link)
		if err != nil {
			return fmt.Errorf("repo/gc: the shell sent an invalid CID %q: %w", line.Key.Link, err)
		}
		if removed == nil {
			return nil
		}
		return removed(id)
	})
}

// RepoStat is repo/stat's answer.
type RepoStat struct {
	NumObjects uint64
	RepoSize   uint64 // bytes of block data
	StorageMax uint64 // 0: unlimited
	RepoPath   string
	Version    string
}

// RepoStat reports the daemon's blocks, bytes and storage limit.
func (c *Client) RepoStat(ctx context.Context) (RepoStat, error) {
	resp, err := c.call(ctx, "repo/stat", nil, nil, "")
	if err != nil {
		return RepoStat{}, err
	}
	var st RepoStat
	return st, readJSON(resp, &st)
}

// RepoVerify asks the daemon to re-hash every block, calling corrupt (if
// not nil) for each that does not match. It returns the daemon's closing
// message; when blocks were corrupt, the error is the daemon's summary.
func (c *Client) RepoVerify(ctx context.Context, corrupt func(cid.Cid) error) (string, error) {
	resp, err := c.call(ctx, "repo/verify", nil, nil, "")
	if err != nil {
		return "", err
	}
	var last string
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var line struct{ Msg, Cid string }
		if err := json.Unmarshal(raw, &line); err != nil {
			return fmt.Errorf("repo/verify: decoding response: %w", err)
		}
		last = line.Msg
		if line.Cid == "" || corrupt == nil {
			return nil
		}
		id, err := cid.Decode(line.Cid)
		if err != nil {
			return fmt.Errorf("repo/verify: the shell sent an invalid CID %q: %w", line.Cid, err)
		}
		return corrupt(id)
	})
	return last, err
}
