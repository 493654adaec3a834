package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/ipfs/go-cid"
)

// RepoGC collects garbage on the daemon, calling removed (if not nil) for
// each block removed as the daemon reports it. Blocks the daemon reports
// it could not read do not stop the collection: they are gathered into
// the error returned at the end.
func (c *Client) RepoGC(ctx context.Context, removed func(cid.Cid) error) error {
	resp, err := c.call(ctx, "repo/gc", nil, nil, "")
	if err != nil {
		return err
	}
	var skipped []string
	err = eachJSON(resp, func(raw json.RawMessage) error {
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
			skipped = append(skipped, line.Error)
			return nil
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
	switch {
	case len(skipped) == 0:
		return err
	case err == nil:
		return &Error{Message: strings.Join(skipped, "; ")}
	}
	return fmt.Errorf("%w: %s", err, strings.Join(skipped, "; "))
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
	return c.repoVerify(ctx, false, func(id cid.Cid, _ bool) error {
		if corrupt == nil {
			return nil
		}
		return corrupt(id)
	})
}

// RepoVerifyRepair is RepoVerify that has the daemon fetch each damaged
// block again from peers; report (if not nil) is called with each damaged
// block and whether it was repaired. The error is the daemon's summary
// when some block was left damaged.
func (c *Client) RepoVerifyRepair(ctx context.Context, report func(id cid.Cid, repaired bool) error) (string, error) {
	return c.repoVerify(ctx, true, report)
}

func (c *Client) repoVerify(ctx context.Context, repair bool, report func(cid.Cid, bool) error) (string, error) {
	var q url.Values
	if repair {
		q = url.Values{"repair": {"true"}}
	}
	resp, err := c.call(ctx, "repo/verify", q, nil, "")
	if err != nil {
		return "", err
	}
	var last string
	err = eachJSON(resp, func(raw json.RawMessage) error {
		var line struct {
			Msg, Cid string
			Repaired bool
		}
		if err := json.Unmarshal(raw, &line); err != nil {
			return fmt.Errorf("repo/verify: decoding response: %w", err)
		}
		last = line.Msg
		if line.Cid == "" || report == nil {
			return nil
		}
		id, err := cid.Decode(line.Cid)
		if err != nil {
			return fmt.Errorf("repo/verify: the shell sent an invalid CID %q: %w", line.Cid, err)
		}
		return report(id, line.Repaired)
	})
	return last, err
}
