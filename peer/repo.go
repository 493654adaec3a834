package peer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cairnnet/cairn/content"
	"github.com/libp2p/go-libp2p/core/crypto"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// Files inside a repo.
const (
	IdentityFile = "identity.key" // Ed25519 private key, protobuf-encoded, mode 0600
	DatastoreDir = "datastore"    // the embedded store
	APIFile      = "api"          // the shell's multiaddr while a daemon runs
)

// ErrNoRepo is returned when a directory holds no initialised repo.
var ErrNoRepo = errors.New("no cairn repo")

// InitRepo creates a repo in dir: a fresh identity and the given default
// config. It refuses a dir that already holds a repo, and removes what it
// wrote if it fails half-way so a retry starts clean.
func InitRepo(dir string, defaultConfig []byte) (libp2ppeer.ID, error) {
	if IsRepo(dir) {
		return "", fmt.Errorf("init %s: a repo is already there", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	id, err := initFiles(dir, defaultConfig)
	if err != nil {
		os.Remove(filepath.Join(dir, IdentityFile))
		os.Remove(filepath.Join(dir, ConfigFile))
		return "", fmt.Errorf("init %s: %w", dir, err)
	}
	return id, nil
}

func initFiles(dir string, defaultConfig []byte) (libp2ppeer.ID, error) {
	if _, err := ParseConfig(defaultConfig); err != nil {
		return "", fmt.Errorf("default config: %w", err)
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return "", fmt.Errorf("generate identity: %w", err)
	}
	raw, err := crypto.MarshalPrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode identity: %w", err)
	}
	// The config is written before the key: IsRepo looks for the key, so a
	// crash in between leaves a directory that init can simply redo.
	if err := writeFileSync(filepath.Join(dir, ConfigFile), defaultConfig, 0o644); err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(dir, IdentityFile), raw, 0o600); err != nil {
		return "", err
	}
	return libp2ppeer.IDFromPrivateKey(key)
}

// IsRepo reports whether dir holds an initialised repo.
func IsRepo(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, IdentityFile))
	return err == nil
}

// LoadIdentity reads the repo's private key.
func LoadIdentity(dir string) (crypto.PrivKey, error) {
	raw, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s (run `cairn init`)", ErrNoRepo, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("read identity %s: %w", filepath.Join(dir, IdentityFile), err)
	}
	return key, nil
}

// writeFileSync writes a whole file through a temporary name so a crash
// never leaves a half-written file under the real name.
func writeFileSync(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CreateDatastore creates the repo's embedded datastore (opening pebble on
// an empty directory lays it out) and closes it again.
func CreateDatastore(dir string) error {
	ds, err := content.OpenDatastore(filepath.Join(dir, DatastoreDir), true)
	if err != nil {
		return fmt.Errorf("create datastore: %w", err)
	}
	if err := ds.Close(); err != nil {
		return fmt.Errorf("create datastore: %w", err)
	}
	return nil
}
