package cli

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExtractTarWritesTreeAndInnerSymlinks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "nested", "out")
	archive := cliTarFiles(t,
		tar.Header{Name: "root", Typeflag: tar.TypeDir},
		tar.Header{Name: "root/a/b", Typeflag: tar.TypeDir},
		tar.Header{Name: "root/a/b/f.txt", Typeflag: tar.TypeReg, Size: 3},
		tar.Header{Name: "root/empty", Typeflag: tar.TypeReg},
		tar.Header{Name: "root/a/up", Typeflag: tar.TypeSymlink, Linkname: "../empty"},
	)
	if err := extractTar(bytes.NewReader(archive), "root", out); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "a", "b", "f.txt")); err != nil || string(data) != "xxx" {
		t.Fatalf("f.txt: %q, %v", data, err)
	}
	if target, err := os.Readlink(filepath.Join(out, "a", "up")); err != nil || target != "../empty" {
		t.Fatalf("symlink: %q, %v", target, err)
	}
}

func TestExtractTarRefusesLinkTricks(t *testing.T) {
	t.Run("symlink climbing out", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		archive := cliTarFiles(t, tar.Header{Name: "root", Typeflag: tar.TypeDir},
			tar.Header{Name: "root/a/up", Typeflag: tar.TypeSymlink, Linkname: "../../x"})
		if err := extractTar(bytes.NewReader(archive), "root", out); err == nil {
			t.Fatal("a symlink out of the tree was written")
		}
	})
	t.Run("writing through a link already there", func(t *testing.T) {
		base := t.TempDir()
		out := filepath.Join(base, "out")
		outside := filepath.Join(base, "outside")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Mkdir(outside, 0o755)
		if err := os.Symlink(outside, filepath.Join(out, "link")); err != nil {
			t.Fatal(err)
		}
		archive := cliTarFiles(t, tar.Header{Name: "root", Typeflag: tar.TypeDir},
			tar.Header{Name: "root/link/evil", Typeflag: tar.TypeReg, Size: 3})
		if err := extractTar(bytes.NewReader(archive), "root", out); err == nil {
			t.Fatal("wrote through a symlink leading out of the target")
		}
		if _, err := os.Lstat(filepath.Join(outside, "evil")); !os.IsNotExist(err) {
			t.Fatal("a file was written outside the target")
		}
	})
}

// TestExtractTarRefusesSymlinkChainsOut: links that each point inside the
// tree on their own but lead out together (x/up -> .. is the top, so
// x/esc -> up/.. is the top's parent) are refused and not kept, in
// either order of the archive; a chain that stays inside is written. On
// main both chains were written, the second leading out of the target.
func TestExtractTarRefusesSymlinkChainsOut(t *testing.T) {
	up := tar.Header{Name: "root/x/up", Typeflag: tar.TypeSymlink, Linkname: ".."}
	esc := tar.Header{Name: "root/x/esc", Typeflag: tar.TypeSymlink, Linkname: "up/.."}
	for name, order := range map[string][]tar.Header{"link first": {up, esc}, "link last": {esc, up}} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			headers := append([]tar.Header{{Name: "root", Typeflag: tar.TypeDir}, {Name: "root/x", Typeflag: tar.TypeDir}}, order...)
			err := extractTar(bytes.NewReader(cliTarFiles(t, headers...)), "root", out)
			if err == nil || !strings.Contains(err.Error(), "outside the tree") {
				t.Fatalf("extract: %v, want the chain out refused", err)
			}
			if _, err := os.Lstat(filepath.Join(out, "x", "esc")); !os.IsNotExist(err) {
				t.Fatalf("the link leading out was kept (%v)", err)
			}
		})
	}
	t.Run("chain inside", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out")
		archive := cliTarFiles(t, tar.Header{Name: "root", Typeflag: tar.TypeDir},
			tar.Header{Name: "root/c/f.txt", Typeflag: tar.TypeReg, Size: 2},
			tar.Header{Name: "root/a/l1", Typeflag: tar.TypeSymlink, Linkname: "../b/l2"},
			tar.Header{Name: "root/b/l2", Typeflag: tar.TypeSymlink, Linkname: "../c/./f.txt"},
			tar.Header{Name: "root/b/self", Typeflag: tar.TypeSymlink, Linkname: "l2/../../c"})
		if err := extractTar(bytes.NewReader(archive), "root", out); err != nil {
			t.Fatal(err)
		}
		if data, err := os.ReadFile(filepath.Join(out, "a", "l1")); err != nil || string(data) != "xx" {
			t.Fatalf("through the chain: %q, %v", data, err)
		}
	})
}

// cliTarFiles builds an archive whose regular files hold Size 'x' bytes.
func cliTarFiles(t testing.TB, headers ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		h.Mode = 0o644
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write(bytes.Repeat([]byte{'x'}, int(h.Size)))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzExtractTar extracts arbitrary archives: nothing may appear beside
// the target, and no symlink under it may resolve outside it.
func FuzzExtractTar(f *testing.F) {
	f.Add(cliTarFiles(f, tar.Header{Name: "root", Typeflag: tar.TypeDir},
		tar.Header{Name: "root/a/f", Typeflag: tar.TypeReg, Size: 4},
		tar.Header{Name: "root/a/l", Typeflag: tar.TypeSymlink, Linkname: "f"}))
	f.Add(cliTarFiles(f, tar.Header{Name: "root", Typeflag: tar.TypeDir},
		tar.Header{Name: "root/x/up", Typeflag: tar.TypeSymlink, Linkname: ".."},
		tar.Header{Name: "root/x/esc", Typeflag: tar.TypeSymlink, Linkname: "up/.."}))
	f.Add(cliTarFiles(f, tar.Header{Name: "root", Typeflag: tar.TypeReg, Size: 1}))
	f.Fuzz(func(t *testing.T, archive []byte) {
		base := t.TempDir()
		out := filepath.Join(base, "out")
		_ = extractTar(bytes.NewReader(archive), "root", out)
		entries, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "out" {
				t.Fatalf("%s written beside the target", e.Name())
			}
		}
		realOut, err := filepath.EvalSymlinks(out)
		if err != nil {
			return // nothing written
		}
		filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.Type()&os.ModeSymlink == 0 {
				return nil
			}
			if to, err := filepath.EvalSymlinks(p); err == nil && to != realOut && !strings.HasPrefix(to, realOut+string(filepath.Separator)) {
				t.Fatalf("%s resolves to %s, outside the target", p, to)
			}
			return nil
		})
	})
}
