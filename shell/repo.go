package shell

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ipfs/go-cid"
)

// RepoBackend is what the repo commands need from the node.
type RepoBackend interface {
	// GC removes every block no pin keeps, calling removed with each, and
	// skipped with each block under a pin that it could not read (kept,
	// but what only it links to was not).
	GC(ctx context.Context, removed func(cid.Cid) error, skipped func(cid.Cid, error) error) error
	// RepoStat reports what the repo holds.
	RepoStat(ctx context.Context) (RepoStat, error)
	// Verify re-hashes every stored block, calling bad with each damaged
	// one, and returns how many it checked. With repair it fetches each
	// damaged block again from peers.
	Verify(ctx context.Context, repair bool, bad func(DamagedBlock) error) (int, error)
}

// DamagedBlock is one block repo/verify found damaged.
type DamagedBlock struct {
	Cid cid.Cid
	// Reason says what is wrong with it.
	Reason string
	// Repaired is set when a repair stored it sound again; RepairError
	// says why one that was asked for did not.
	Repaired    bool
	RepairError string
}

// RepoStat describes the repo, in the units of Kubo's repo/stat.
type RepoStat struct {
	NumObjects uint64 // blocks stored
	RepoSize   uint64 // bytes of block data stored
	StorageMax uint64 // content.storage_max; 0 means unlimited
	RepoPath   string
}

// repoGC streams {"Key":{"/":cid}} for each block removed, as Kubo does;
// quiet=true sends nothing but the outcome. A block under a pin that
// could not be read is sent as {"Key":…,"Error":…}, as Kubo sends a
// collection's errors, and the command fails at the end, having removed
// what it could.
func (s *shell) repoGC(w http.ResponseWriter, r *http.Request) error {
	quiet, err := boolParam(r.URL.Query(), "quiet", false)
	if err != nil {
		return err
	}
	out := &jsonStream{w: w}
	skipped := 0
	err = s.backend.GC(r.Context(), func(c cid.Cid) error {
		if quiet {
			return nil
		}
		return out.emit(gcLine{Key: cidLink{c.String()}})
	}, func(c cid.Cid, why error) error {
		skipped++
		return out.emit(gcLine{Key: cidLink{c.String()}, Error: fmt.Sprintf("skipped %s, under a pin, which could not be read (%v): the blocks only it links to were not kept", c, why)})
	})
	if err != nil {
		return err
	}
	if skipped > 0 {
		return fmt.Errorf("gc skipped %d unreadable blocks under pins; `cairn repo verify --repair` fetches them again", skipped)
	}
	out.start()
	return nil
}

// gcLine is one line of repo/gc's output, Kubo's GcResult.
type gcLine struct {
	Key   cidLink
	Error string `json:",omitempty"`
}

// cidLink is a CID in DAG-JSON's link form, {"/": cid}, as Kubo sends it.
type cidLink struct {
	Link string `json:"/"`
}

// repoStatOutput is repo/stat's output in Kubo's shape: every field
// always there, zero or empty under size-only, as Kubo sends them.
type repoStatOutput struct {
	RepoSize   uint64
	StorageMax uint64
	NumObjects uint64
	RepoPath   string
	Version    string
}

// repoStat reports the repo's blocks, bytes and limit; size-only=true
// leaves out all but the sizes, as in Kubo.
func (s *shell) repoStat(w http.ResponseWriter, r *http.Request) error {
	sizeOnly, err := boolParam(r.URL.Query(), "size-only", false)
	if err != nil {
		return err
	}
	st, err := s.backend.RepoStat(r.Context())
	if err != nil {
		return err
	}
	out := repoStatOutput{RepoSize: st.RepoSize, StorageMax: st.StorageMax}
	if !sizeOnly {
		out.NumObjects = st.NumObjects
		out.RepoPath = st.RepoPath
		out.Version = "cairn-repo@" + s.cfg.RepoVersion
	}
	return writeJSON(w, out)
}

// verifyProgress is one line of repo/verify's output: Kubo's Msg and
// Progress, plus the damaged block's CID so that clients need not parse
// the message, and whether a repair restored it.
type verifyProgress struct {
	Msg      string
	Progress int
	Cid      string `json:",omitempty"`
	Repaired bool   `json:",omitempty"`
}

// repoVerify streams one message per damaged block, then Kubo's closing
// message; repair=true fetches each damaged block again from peers. If
// any block was damaged and is not repaired, the command fails at the end.
func (s *shell) repoVerify(w http.ResponseWriter, r *http.Request) error {
	repair, err := boolParam(r.URL.Query(), "repair", false)
	if err != nil {
		return err
	}
	out := &jsonStream{w: w}
	damaged, repaired := 0, 0
	checked, err := s.backend.Verify(r.Context(), repair, func(d DamagedBlock) error {
		damaged++
		msg := fmt.Sprintf("block %s was corrupt (%s)", d.Cid, d.Reason)
		switch {
		case d.Repaired:
			repaired++
			msg += "; repaired"
		case repair:
			msg += "; not repaired: " + d.RepairError
		}
		return out.emit(verifyProgress{Msg: msg, Cid: d.Cid.String(), Repaired: d.Repaired})
	})
	if err != nil {
		return err
	}
	switch {
	case damaged == 0:
		return out.emit(verifyProgress{Msg: fmt.Sprintf("verify complete, all %d blocks validated.", checked)})
	case repaired == damaged:
		return out.emit(verifyProgress{Msg: fmt.Sprintf("verify complete, %d of %d blocks were corrupt, all repaired.", damaged, checked)})
	case repair:
		return fmt.Errorf("verify complete, %d of %d blocks were corrupt, %d not repaired", damaged, checked, damaged-repaired)
	}
	return fmt.Errorf("verify complete, %d of %d blocks were corrupt", damaged, checked)
}
