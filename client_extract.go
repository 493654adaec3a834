package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// extractTar writes the archive that `get` streams to out. Its top entry is
// named root (the CID) and becomes out itself; every other entry must lie
// under it. Whatever names the archive holds, nothing is written outside
// out, and links are refused, so a hostile daemon cannot reach other files.
func extractTar(r io.Reader, root, out string) error {
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) && n > 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get: reading the archive: %w", orEmpty(err))
		}
		dest, err := tarDest(h.Name, root, out)
		if err != nil {
			return err
		}
		if err := writeEntry(tr, h, dest); err != nil {
			return err
		}
	}
}

func orEmpty(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("the daemon sent an empty archive")
	}
	return err
}

// tarDest maps an entry name to a local path under out, or refuses it.
func tarDest(name, root, out string) (string, error) {
	clean := path.Clean(name)
	if clean == root {
		return out, nil
	}
	rel, ok := strings.CutPrefix(clean, root+"/")
	local := filepath.FromSlash(rel)
	if !ok || !filepath.IsLocal(local) {
		return "", fmt.Errorf("get: refusing archive entry %q: it is not inside %s", name, root)
	}
	return filepath.Join(out, local), nil
}

func writeEntry(tr *tar.Reader, h *tar.Header, dest string) error {
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(dest, 0o755); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		return nil
	case tar.TypeReg:
		return writeFileAtomic(dest, tr)
	default:
		return fmt.Errorf("get: archive entry %q is a link or special file, which get does not write", h.Name)
	}
}

// writeFileAtomic writes r to dest through a temporary file beside it, so
// that an interrupted download never leaves a truncated file at dest.
func writeFileAtomic(dest string, r io.Reader) (err error) {
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".cairn-get-*")
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("get: %w", err)
	}
	return nil
}
