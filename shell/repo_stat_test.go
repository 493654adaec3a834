package shell_test

import (
	"encoding/json"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// TestRepoStatAlwaysCarriesNumObjects: Kubo's repo/stat always has
// NumObjects (and RepoPath and Version), 0 for an empty repo and under
// size-only; clients decode it as present. On main an empty repo's
// answer had no NumObjects at all.
func TestRepoStatAlwaysCarriesNumObjects(t *testing.T) {
	srv := newShell(t, shell.Config{RepoVersion: "1"}, shelltest.New())
	for _, path := range []string{"/api/v0/repo/stat", "/api/v0/repo/stat?size-only=true"} {
		var out map[string]any
		if err := json.Unmarshal(post(t, srv, path).body, &out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, field := range []string{"NumObjects", "RepoSize", "StorageMax", "RepoPath", "Version"} {
			if _, ok := out[field]; !ok {
				t.Errorf("%s: no %s in %v", path, field, out)
			}
		}
		if n, _ := out["NumObjects"].(float64); n != 0 {
			t.Errorf("%s: NumObjects %v in an empty repo", path, out["NumObjects"])
		}
	}
}
