package shell

import (
	"context"
	"fmt"
	"net/http"

	"github.com/ipfs/go-cid"
)

// RepoBackend is what the repo commands need from the node.
type RepoBackend interface {
	// GC removes every block no pin keeps, calling removed with each.
	GC(ctx context.Context, removed func(cid.Cid) error) error
	// RepoStat reports what the repo holds.
	RepoStat(ctx context.Context) (RepoStat, error)
	// Verify re-hashes every stored block, calling bad with each whose
	// bytes do not match, and returns how many it checked.
	Verify(ctx context.Context, bad func(cid.Cid) error) (int, error)
}

// RepoStat describes the repo, in the units of Kubo's repo/stat.
type RepoStat struct {
	NumObjects uint64 // blocks stored
	RepoSize   uint64 // bytes of block data stored
	StorageMax uint64 // content.storage_max; 0 means unlimited
	RepoPath   string
}

// repoGC streams {"Key":{"/":cid}} for each block removed, as Kubo does;
// quiet=true sends nothing but the outcome.
func (s *shell) repoGC(w http.ResponseWriter, r *http.Request) error {
	quiet, err := boolParam(r.URL.Query(), "quiet", false)
	if err != nil {
		return err
	}
	out := &jsonStream{w: w}
	err = s.backend.GC(r.Context(), func(c cid.Cid) error {
		if quiet {
			return nil
		}
		return out.emit(struct{ Key cidLink }{cidLink{c.String()}})
	})
	if err != nil {
		return err
	}
	out.start()
	return nil
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
// Progress, plus the corrupt block's CID so that clients need not parse
// the message.
type verifyProgress struct {
	Msg      string
	Progress int
	Cid      string `json:",omitempty"`
}

// repoVerify streams one message per corrupt block, then Kubo's closing
// message; if any block was corrupt, the command fails at the end.
func (s *shell) repoVerify(w http.ResponseWriter, r *http.Request) error {
	out := &jsonStream{w: w}
	corrupt := 0
	checked, err := s.backend.Verify(r.Context(), func(c cid.Cid) error {
		corrupt++
		return out.emit(verifyProgress{Msg: fmt.Sprintf("block %s was corrupt (hash mismatch)", c), Cid: c.String()})
	})
	if err != nil {
		return err
	}
	if corrupt > 0 {
		return fmt.Errorf("verify complete, %d of %d blocks were corrupt", corrupt, checked)
	}
	return out.emit(verifyProgress{Msg: fmt.Sprintf("verify complete, all %d blocks validated.", checked)})
}
