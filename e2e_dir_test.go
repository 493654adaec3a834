package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/boxo/files"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	unixfs_pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	"github.com/ipfs/go-cid"
)

// writeTree creates files under dir from a map of slash paths to contents;
// a path ending in "/" is an empty directory, a content starting with
// "->" a symlink to the rest.
func writeTree(t *testing.T, dir string, tree map[string]string) {
	t.Helper()
	for p, content := range tree {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(content, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// treeListing lists every entry under dir as "path kind sha256-or-target",
// sorted, so two trees compare by names, kinds and bytes.
func treeListing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out = append(out, rel+" link "+target)
			return err
		case d.IsDir():
			out = append(out, rel+" dir")
		default:
			sum, err := fileSHA(p)
			out = append(out, rel+" file "+sum)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// fileSHA hashes a file as a stream, so big files cost no memory.
func fileSHA(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}

// addedRoot returns the CID on the last "added" line of add's output.
func addedRoot(t *testing.T, out string) (root string, names []string) {
	t.Helper()
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "added" {
			t.Fatalf("unexpected add output line %q", line)
		}
		root = f[1]
		if len(f) > 2 {
			names = append(names, f[2])
		} else {
			names = append(names, "")
		}
	}
	if root == "" {
		t.Fatalf("add printed no CID: %q", out)
	}
	return root, names
}

// A tree with nested folders, empty files, an empty folder and a symlink
// goes in with add -r and comes back with get byte for byte; hidden files
// stay out unless asked for.
func TestE2EDirectoryRoundTrip(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	src := filepath.Join(t.TempDir(), "album")
	writeTree(t, src, map[string]string{
		"readme.txt":             "hello",
		"empty.txt":              "",
		"photos/2024/a.jpg":      strings.Repeat("jpeg", 100000),
		"photos/2024/empty.bin":  "",
		"photos/none/":           "",
		"photos/latest":          "->2024/a.jpg",
		"docs/deep/er/still.md":  "# still",
		".hidden/secret":         "shh",
		"docs/.dotfile":          "dot",
		"docs/deep/er/empty/x/":  "",
		"docs/deep/er/empty/y.b": "",
	})

	out := cairnOK(t, "add", "--repo", d.repo, "-r", src)
	root, names := addedRoot(t, out)
	if names[len(names)-1] != "album" || !slices.Contains(names, "album/photos/2024/a.jpg") || !slices.Contains(names, "album/photos/none") {
		t.Fatalf("add reported %q", names)
	}
	for _, n := range names {
		if strings.Contains(n, ".hidden") || strings.Contains(n, ".dotfile") {
			t.Fatalf("hidden entry %q added without --hidden", n)
		}
	}

	dst := filepath.Join(t.TempDir(), "copy")
	cairnOK(t, "get", "--repo", d.repo, "--timeout", "30s", "-o", dst, root)
	want := treeListing(t, src)
	want = slices.DeleteFunc(want, func(s string) bool { return strings.Contains(s, ".hidden") || strings.Contains(s, ".dotfile") })
	if got := treeListing(t, dst); !slices.Equal(got, want) {
		t.Fatalf("get wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	withHidden, _ := addedRoot(t, cairnOK(t, "add", "--repo", d.repo, "-r", "--hidden", src))
	if withHidden == root {
		t.Fatal("--hidden gave the same CID")
	}
	dst2 := filepath.Join(t.TempDir(), "copy2")
	cairnOK(t, "get", "--repo", d.repo, "-o", dst2, withHidden)
	if got, want := treeListing(t, dst2), treeListing(t, src); !slices.Equal(got, want) {
		t.Fatalf("get of the --hidden add wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	ls := cairnOK(t, "ls", "--repo", d.repo, root)
	for _, want := range []string{" - docs/\n", " 5 readme.txt\n", " 0 empty.txt\n", " - photos/\n"} {
		if !strings.Contains(ls, want) {
			t.Fatalf("ls output lacks %q:\n%s", want, ls)
		}
	}

	_, stderr, code := cairn(t, "add", "--repo", d.repo, src)
	checkOneLineError(t, stderr, code, "-r")

	// Several paths in one add, wrapped: one directory holding both.
	two := cairnOK(t, "add", "--repo", d.repo, "-w", filepath.Join(src, "readme.txt"), filepath.Join(src, "photos"), "-r")
	wrapper, names := addedRoot(t, two)
	if names[len(names)-1] != "" || !slices.Contains(names, "readme.txt") || !slices.Contains(names, "photos/2024/a.jpg") {
		t.Fatalf("add -w of two paths reported %q", names)
	}
	if ls := cairnOK(t, "ls", "--repo", d.repo, wrapper); !strings.Contains(ls, " readme.txt\n") || !strings.Contains(ls, " photos/\n") {
		t.Fatalf("the wrapper lists:\n%s", ls)
	}
}

// A directory whose block would pass 256 KiB is sharded as a HAMT and
// still round-trips.
func TestE2EHAMTDirectoryRoundTrip(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	src := filepath.Join(t.TempDir(), "many")
	tree := map[string]string{}
	// Long names reach the threshold with few files: creating files is
	// what costs here (about 2 ms each on some disks).
	for i := range 1200 {
		tree[fmt.Sprintf("%05d-%s.txt", i, strings.Repeat("n", 200))] = fmt.Sprint(i)
	}
	writeTree(t, src, tree)

	root, _ := addedRoot(t, cairnOK(t, "add", "--repo", d.repo, "-r", src))
	if typ := unixfsType(t, d, root); typ != unixfs_pb.Data_HAMTShard {
		t.Fatalf("root of 1200 entries is a %v, want a HAMT shard", typ)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	cairnOK(t, "get", "--repo", d.repo, "-o", dst, root)
	if got, want := treeListing(t, dst), treeListing(t, src); !slices.Equal(got, want) {
		t.Fatalf("the sharded directory came back with %d entries, want %d", len(got), len(want))
	}
	var listed struct {
		Objects []struct{ Links []struct{ Name string } }
	}
	shellJSON(t, d, "ls?arg="+root, nil, "", &listed)
	if n := len(listed.Objects[0].Links); n != 1200 {
		t.Fatalf("ls listed %d entries, want 1200", n)
	}
}

// unixfsType fetches root's block through the shell and decodes its type.
func unixfsType(t *testing.T, d *daemon, root string) unixfs_pb.Data_DataType {
	t.Helper()
	raw := shellPost(t, d, "block/get?arg="+root, nil, "")
	nd, err := merkledag.DecodeProtobuf(raw)
	if err != nil {
		t.Fatalf("decoding %s: %v", root, err)
	}
	fsn, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		t.Fatal(err)
	}
	return fsn.Type()
}

// shellPost posts to the daemon's shell and returns the body of a 200.
func shellPost(t *testing.T, d *daemon, cmd string, body io.Reader, ctype string) []byte {
	t.Helper()
	resp := shellDo(t, d, cmd, body, ctype)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d, %v: %s", cmd, resp.StatusCode, err, data)
	}
	return data
}

func shellDo(t *testing.T, d *daemon, cmd string, body io.Reader, ctype string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, shellURL(t, d)+"/api/v0/"+cmd, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// shellURL turns the daemon's shell multiaddr (/ip4/…/tcp/…) into a URL.
func shellURL(t *testing.T, d *daemon) string {
	t.Helper()
	f := strings.Split(d.shell, "/")
	if len(f) < 5 || f[1] != "ip4" || f[3] != "tcp" {
		t.Fatalf("unexpected shell address %q", d.shell)
	}
	return "http://" + f[2] + ":" + f[4]
}

func shellJSON(t *testing.T, d *daemon, cmd string, body io.Reader, ctype string, v any) {
	t.Helper()
	if err := json.Unmarshal(shellPost(t, d, cmd, body, ctype), v); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
}

type addLine struct {
	Name, Hash, Size string
	Bytes            int64
}

// addHTTP uploads entries as Kubo's CLI encodes them and returns the lines.
func addHTTP(t *testing.T, d *daemon, query string, entries ...files.DirEntry) []addLine {
	t.Helper()
	mfr := files.NewMultiFileReader(files.NewSliceDirectory(entries), true, false)
	resp := shellDo(t, d, "add"+query, mfr, "multipart/form-data; boundary="+mfr.Boundary())
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("add%s: status %d: %s", query, resp.StatusCode, body)
	}
	var lines []addLine
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l addLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("add line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if msg := resp.Trailer.Get("X-Stream-Error"); msg != "" || sc.Err() != nil {
		t.Fatalf("add%s failed mid-stream: %s %v", query, msg, sc.Err())
	}
	return lines
}

// The HTTP add takes a directory in Kubo's multipart encoding, wraps with
// wrap-with-directory, streams progress objects, and its parameters change
// the CIDs as in Kubo.
func TestE2EAddOverHTTP(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	src := filepath.Join(t.TempDir(), "tree")
	writeTree(t, src, map[string]string{"a.txt": "A", "sub/b.txt": "B", "sub/empty": "", "nothing/": ""})
	cliRoot, _ := addedRoot(t, cairnOK(t, "add", "--repo", d.repo, "-r", src))

	st, _ := os.Stat(src)
	sf, err := files.NewSerialFile(src, false, st)
	if err != nil {
		t.Fatal(err)
	}
	lines := addHTTP(t, d, "?recursive=true", files.FileEntry("tree", sf))
	var names []string
	for _, l := range lines {
		names = append(names, l.Name)
	}
	if want := []string{"tree/a.txt", "tree/nothing", "tree/sub/b.txt", "tree/sub/empty", "tree/sub", "tree"}; !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	if root := lines[len(lines)-1].Hash; root != cliRoot {
		t.Fatalf("HTTP upload gave %s, the CLI %s", root, cliRoot)
	}

	wrapped := addHTTP(t, d, "?wrap-with-directory=true", files.FileEntry("x.txt", files.NewBytesFile([]byte("x"))))
	if len(wrapped) != 2 || wrapped[1].Name != "" || wrapped[0].Name != "x.txt" {
		t.Fatalf("wrapped add: %+v", wrapped)
	}
	var listed struct {
		Objects []struct{ Links []struct{ Name, Hash string } }
	}
	shellJSON(t, d, "ls?arg="+wrapped[1].Hash, nil, "", &listed)
	if l := listed.Objects[0].Links; len(l) != 1 || l[0].Name != "x.txt" || l[0].Hash != wrapped[0].Hash {
		t.Fatalf("wrapper lists %+v", l)
	}

	data := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	prog := addHTTP(t, d, "?progress=true", files.FileEntry("big.bin", files.NewBytesFile(data)))
	var steps []int64
	for _, l := range prog[:len(prog)-1] {
		if l.Hash != "" || l.Name != "big.bin" {
			t.Fatalf("progress line %+v", l)
		}
		steps = append(steps, l.Bytes)
	}
	if len(steps) < 3 || !slices.IsSorted(steps) || steps[len(steps)-1] != int64(len(data)) {
		t.Fatalf("progress Bytes %v, want rising counts up to %d", steps, len(data))
	}

	file := func() files.DirEntry { return files.FileEntry("f", files.NewBytesFile(data[:300<<10])) }
	cidOf := func(query string) cid.Cid {
		t.Helper()
		l := addHTTP(t, d, query, file())
		c, err := cid.Decode(l[len(l)-1].Hash)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	def := cidOf("")
	if def.Version() != 1 || def.Prefix().Codec != cid.Raw {
		t.Fatalf("default CID %s: want CIDv1 of a raw leaf (one chunk)", def)
	}
	if v0 := cidOf("?cid-version=0"); !strings.HasPrefix(v0.String(), "Qm") {
		t.Fatalf("cid-version=0 gave %s, want Qm…", v0)
	}
	if wrappedLeaf := cidOf("?raw-leaves=false"); wrappedLeaf.Prefix().Codec != cid.DagProtobuf {
		t.Fatalf("raw-leaves=false gave %s, want a dag-pb leaf", wrappedLeaf)
	}
	if small := cidOf("?chunker=size-65536"); small.Equals(def) || small.Prefix().Codec != cid.DagProtobuf {
		t.Fatalf("chunker=size-65536 gave %s, want a dag-pb root over 5 leaves", small)
	}
	if rabin := cidOf("?chunker=rabin-16384-65536-131072"); rabin.Equals(def) {
		t.Fatalf("the rabin chunker gave the default CID %s", rabin)
	}
	hashOnly := addHTTP(t, d, "?only-hash=true", files.FileEntry("g", files.NewBytesFile([]byte("never stored"))))
	resp := shellDo(t, d, "block/stat?timeout=1s&arg="+hashOnly[0].Hash, nil, "")
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("only-hash stored %s", hashOnly[0].Hash)
	}
}

// A ~256 MiB sparse file streams in with add and out with get unchanged.
func TestE2ELargeSparseFileRoundTrip(t *testing.T) {
	d := startDaemon(t, newRepo(t))
	src := filepath.Join(t.TempDir(), "sparse.img")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	const size = 256 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	// A few islands of data in the holes, so the file is not one block
	// repeated, and a tail that ends mid-chunk.
	rng := rand.NewChaCha8([32]byte{2})
	island := make([]byte, 1<<20)
	for _, off := range []int64{0, 17 << 20, 100<<20 + 12345, size - 3<<19} {
		rng.Read(island)
		if _, err := f.WriteAt(island, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	root := strings.TrimSpace(cairnOK(t, "add", "--repo", d.repo, "-Q", src))
	dst := filepath.Join(t.TempDir(), "copy.img")
	cairnOK(t, "get", "--repo", d.repo, "-o", dst, root)
	want, err := fileSHA(src)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fileSHA(dst); err != nil || got != want {
		t.Fatalf("get wrote a file with sha256 %s (%v), want %s", got, err, want)
	}
}

// Cairn and Kubo under the unixfs-v1-2025 profile give the same CIDs for
// the same tree, HAMT included.
func TestE2EDirectoryCIDsMatchKubo(t *testing.T) {
	kubo := kuboBinary(t)
	d := startDaemon(t, newRepo(t))
	src := filepath.Join(t.TempDir(), "tree")
	tree := map[string]string{"a.txt": "A", "sub/b.txt": strings.Repeat("b", 3<<20), "sub/empty": "", "nothing/": "", "link": "->a.txt"}
	for i := range 1100 {
		tree[fmt.Sprintf("big/%05d-%s", i, strings.Repeat("n", 200))] = fmt.Sprint(i)
	}
	writeTree(t, src, tree)
	ours := strings.TrimSpace(cairnOK(t, "add", "--repo", d.repo, "-r", "-Q", src))

	env := append(os.Environ(), "IPFS_PATH="+filepath.Join(t.TempDir(), "kubo"))
	run := func(args ...string) string {
		cmd := exec.Command(kubo, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ipfs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "--profile", "unixfs-v1-2025,test")
	theirs := run("add", "--offline", "--only-hash", "-r", "-Q", src)
	if ours != theirs {
		t.Fatalf("Cairn %s, Kubo %s for the same tree", ours, theirs)
	}
}

// kuboBinary returns $CAIRN_KUBO, else the Kubo that scripts/kubo.sh builds
// (or has cached). A Kubo that cannot be had fails the test: a check that
// cannot run is not a pass.
func kuboBinary(t *testing.T) string {
	t.Helper()
	if v := os.Getenv("CAIRN_KUBO"); v != "" {
		return v
	}
	out, err := exec.Command("bash", filepath.Join("scripts", "kubo.sh")).Output()
	if err != nil {
		t.Fatalf("scripts/kubo.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}
