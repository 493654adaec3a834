package cli

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// extractTar writes the archive that `get` streams to out. Its top entry is
// named root (the CID) and becomes out itself; every other entry must lie
// under it. Whatever the archive holds, nothing is written outside out:
// names are checked, and everything under out is written through an
// os.Root, which refuses to follow a symlink out of it (so an entry cannot
// climb through a link written by an earlier one). Symlinks are written
// only when their target stays inside the tree; hard links and devices
// are refused. Files land whole or not at all (written beside, renamed).
func extractTar(r io.Reader, root, out string) (err error) {
	tr := tar.NewReader(r)
	x := &extractor{out: out}
	defer x.close()
	// However the extraction ends, no link it wrote may lead out.
	defer func() { err = errors.Join(err, x.checkLinks()) }()
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) && n > 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("get: reading the archive: %w", orEmpty(err))
		}
		rel, err := tarDest(h.Name, root)
		if err != nil {
			return err
		}
		if err := x.write(tr, h, rel); err != nil {
			return fmt.Errorf("get: %s: %w", h.Name, err)
		}
	}
}

func orEmpty(err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("the daemon sent an empty archive")
	}
	return err
}

// tarDest maps an entry name to a slash path relative to out ("" for out
// itself), or refuses it.
func tarDest(name, root string) (string, error) {
	clean := path.Clean(name)
	if clean == root {
		return "", nil
	}
	rel, ok := strings.CutPrefix(clean, root+"/")
	if !ok || !filepath.IsLocal(filepath.FromSlash(rel)) {
		return "", fmt.Errorf("get: refusing archive entry %q: it is not inside %s", name, root)
	}
	return rel, nil
}

// extractor writes entries under out, opening out as an os.Root once the
// top entry has made it a directory.
type extractor struct {
	out   string
	root  *os.Root
	links []string // the symlinks written, as slash paths under out
}

func (x *extractor) close() {
	if x.root != nil {
		x.root.Close()
	}
}

func (x *extractor) write(tr *tar.Reader, h *tar.Header, rel string) error {
	if rel == "" {
		return x.writeTop(tr, h)
	}
	if x.root == nil {
		return errors.New("the archive's top entry is not a directory, yet entries follow it")
	}
	local := filepath.FromSlash(rel)
	switch h.Typeflag {
	case tar.TypeDir:
		return x.root.MkdirAll(local, 0o755)
	case tar.TypeReg:
		if err := x.root.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return err
		}
		return writeFileAtomic(x.root, local, tr)
	case tar.TypeSymlink:
		if err := checkLinkTarget(rel, h.Linkname); err != nil {
			return err
		}
		if err := x.root.MkdirAll(filepath.Dir(local), 0o755); err != nil {
			return err
		}
		if err := x.root.Symlink(h.Linkname, local); err != nil {
			return err
		}
		x.links = append(x.links, rel)
		return x.checkLink(rel)
	default:
		return errors.New("a hard link or special file, which get does not write")
	}
}

// writeTop writes the archive's top entry at out itself.
func (x *extractor) writeTop(tr *tar.Reader, h *tar.Header) error {
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(x.out, 0o755); err != nil {
			return err
		}
		root, err := os.OpenRoot(x.out)
		if err != nil {
			return err
		}
		x.root = root
		return nil
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(x.out), 0o755); err != nil {
			return err
		}
		parent, err := os.OpenRoot(filepath.Dir(x.out))
		if err != nil {
			return err
		}
		defer parent.Close()
		return writeFileAtomic(parent, filepath.Base(x.out), tr)
	default:
		return errors.New("the top entry is a link or special file, which get does not write")
	}
}

// checkLinkTarget accepts a symlink only if it points inside the tree
// being written: a relative target that, from the link's own folder, does
// not climb above the top. Anything else could later lead a reader of the
// tree to files outside it.
func checkLinkTarget(rel, target string) error {
	if target == "" || path.IsAbs(target) || filepath.IsAbs(target) {
		return fmt.Errorf("a symlink to %q, outside the tree", target)
	}
	if !filepath.IsLocal(filepath.FromSlash(path.Join(path.Dir(rel), target))) {
		return fmt.Errorf("a symlink to %q, outside the tree", target)
	}
	return nil
}

// checkLinks checks every symlink written, once all are there: a link
// may lead out only through links written after it.
func (x *extractor) checkLinks() error {
	var errs []error
	for _, rel := range x.links {
		errs = append(errs, x.checkLink(rel))
	}
	return errors.Join(errs...)
}

// checkLink follows the symlink at rel through the tree as it is on disk,
// and removes it if the path leads above the top: each link on the way
// is read and followed in turn, so a chain whose links each look inside
// on their own (x/up -> .., x/esc -> up/..) is caught, where checking
// each target alone is not enough.
func (x *extractor) checkLink(rel string) error {
	err := x.resolve(rel)
	if err == nil {
		return nil
	}
	if rmErr := x.root.Remove(filepath.FromSlash(rel)); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
		err = errors.Join(err, rmErr)
	}
	return fmt.Errorf("get: %s: %w; the link was not kept", rel, err)
}

// maxLinkHops bounds the links followed from one, as the kernel's
// ELOOP does.
const maxLinkHops = 40

var errLinkOut = errors.New("a chain of symlinks leading outside the tree")

// resolve walks the target of the link at rel component by component,
// from the link's folder, reading every symlink met on disk.
func (x *extractor) resolve(rel string) error {
	target, err := x.root.Readlink(filepath.FromSlash(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // replaced since by a later entry, checked in its turn
	}
	if err != nil {
		return err
	}
	at := strings.Split(path.Dir(rel), "/")
	if path.Dir(rel) == "." {
		at = nil
	}
	todo := strings.Split(target, "/")
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch {
		case c == "" || c == ".":
			continue
		case c == "..":
			if len(at) == 0 {
				return errLinkOut
			}
			at = at[:len(at)-1]
			continue
		}
		next := append(at[:len(at):len(at)], c)
		fi, err := x.root.Lstat(filepath.FromSlash(path.Join(next...)))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			at = next // a folder, a file or nothing yet: a name like any
			continue
		}
		if hops++; hops > maxLinkHops {
			return errors.New("too many levels of symlinks")
		}
		t, err := x.root.Readlink(filepath.FromSlash(path.Join(next...)))
		if err != nil {
			return err
		}
		if path.IsAbs(t) || filepath.IsAbs(t) {
			return errLinkOut
		}
		todo = append(strings.Split(t, "/"), todo...)
	}
	return nil
}

// writeFileAtomic writes r to name under root through a temporary file
// beside it, so that an interrupted download never leaves a truncated file
// at name.
func writeFileAtomic(root *os.Root, name string, r io.Reader) (err error) {
	tmp, tmpName, err := createTemp(root, filepath.Dir(name))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			root.Remove(tmpName)
		}
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return root.Rename(tmpName, name)
}

// createTemp makes a new file named .cairn-get-* in dir under root.
func createTemp(root *os.Root, dir string) (*os.File, string, error) {
	for i := 0; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf(".cairn-get-%d-%d", os.Getpid(), i))
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) && i < 1000 {
			continue
		}
		return f, name, err
	}
}
