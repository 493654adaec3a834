package interop

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// randomFile writes size random bytes to a new file and returns its path
// and SHA-256.
func randomFile(t *testing.T, size int) (string, string) {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), fmt.Sprintf("random-%d.bin", size))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, sha(data)
}

func sha(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// nestedDir builds a directory with files at five depths, an empty
// directory and a multi-block file, and returns its path. withEmptyFile
// adds a 0-byte file, whose raw block (bafkreihdwd…) has no bytes: boxo's
// Bitswap server never sends a zero-length block (it answers HAVE), so no
// peer, Kubo to Kubo included, can fetch it over Bitswap. Cairn holds that
// block implicitly (content/empty.go), so it needs no peer to send it;
// Kubo does not, so a check where Kubo fetches leaves the empty file out.
func nestedDir(t *testing.T, withEmptyFile bool) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	files := map[string][]byte{
		"a.txt":                []byte("hello from the top\n"),
		"sub/b.bin":            randomBytes(3<<20 + 7),
		"sub/deeper/c.txt":     []byte("three levels down\n"),
		"sub/deeper/d/e/f.txt": []byte("f"),
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if withEmptyFile {
		if err := os.WriteFile(filepath.Join(root, "sub", "empty"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "sub", "nothing-here"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// treeSums maps every path under root (files and directories) to its
// SHA-256, or "dir" for a directory.
func treeSums(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel] = "dir"
		} else {
			out[rel] = fileSHA(t, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails the test unless got holds exactly want's paths and bytes.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	w, g := treeSums(t, want), treeSums(t, got)
	for p, s := range w {
		if g[p] != s {
			t.Errorf("%s: want %.12s, got %.12q", p, s, g[p])
		}
	}
	for p := range g {
		if _, ok := w[p]; !ok {
			t.Errorf("%s: present in the copy but not in the original", p)
		}
	}
}

// eventually calls try every interval until it reports done or the
// deadline passes; then it fails the test with try's last reason. This is
// polling with a deadline, not a sleep standing in for synchronisation.
func eventually(t *testing.T, within, interval time.Duration, what string, try func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for {
		done, reason := try()
		if done {
			return
		}
		last = reason
		if time.Now().After(deadline) {
			t.Fatalf("%s: not done within %s: %s", what, within, last)
		}
		time.Sleep(interval)
	}
}

// lastLine is the last non-empty line, trimmed: the root CID in
// `add -q` output.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

var recursiveFlag = regexp.MustCompile(`(?m)^\s*-{1,2}(r|recursive)\b`)

// cairnAddsDirectories reports whether `cairn add` takes -r, and if not,
// why a check that needs it must fail.
func cairnAddsDirectories(t *testing.T) (bool, string) {
	t.Helper()
	_, help, _ := runCmd(t, 10*time.Second, nil, cairnBin, "add", "--help")
	out, _, _ := runCmd(t, 10*time.Second, nil, cairnBin, "add", "-h")
	if recursiveFlag.MatchString(help + out) {
		return true, ""
	}
	return false, "cairn add has no -r flag yet (cairn add --help lists none): directories cannot be added on Cairn"
}

// oneLine squeezes a command's stderr onto one line for a failure reason.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
