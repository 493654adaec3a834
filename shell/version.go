package shell

import (
	"net/http"
	"runtime"
)

// versionOutput is /api/v0/version's output in Kubo's shape; System is
// "<arch>/<os>" as Kubo writes it.
type versionOutput struct {
	Version string
	Commit  string
	Repo    string
	System  string
	Golang  string
}

func (s *shell) version(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, versionOutput{
		Version: s.cfg.Version,
		Commit:  s.cfg.Commit,
		Repo:    s.cfg.RepoVersion,
		System:  runtime.GOARCH + "/" + runtime.GOOS,
		Golang:  runtime.Version(),
	})
}
