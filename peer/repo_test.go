package peer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/crypto"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

func TestInitRepoCreatesIdentityAndConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	id, err := InitRepo(dir, []byte("log:\n  level: info\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, IdentityFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("identity mode %v, want 0600", st.Mode().Perm())
	}
	key, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustID(t, key); got != id {
		t.Fatalf("identity reloads as %s, init said %s", got, id)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "info" || cfg.RepoDir != dir {
		t.Fatalf("config not loaded from repo: %+v", cfg.Log)
	}
	if _, err := InitRepo(dir, []byte("")); err == nil || !strings.Contains(err.Error(), "already") {
		t.Fatalf("second init: %v, want 'already'", err)
	}
}

func TestInitRepoRejectsBrokenDefaultAndLeavesNoRepo(t *testing.T) {
	dir := t.TempDir()
	if _, err := InitRepo(dir, []byte("nonsense: 1\n")); err == nil {
		t.Fatal("init accepted a broken default config")
	}
	if IsRepo(dir) {
		t.Fatal("a failed init left a repo behind")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("failed init wrote %d files", len(entries))
	}
}

func TestLoadIdentityOnMissingRepo(t *testing.T) {
	_, err := LoadIdentity(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "cairn init") {
		t.Fatalf("got %v, want a hint to run cairn init", err)
	}
}

func mustID(t *testing.T, key crypto.PrivKey) libp2ppeer.ID {
	t.Helper()
	id, err := libp2ppeer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func fileExists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}
