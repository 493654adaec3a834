package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// cliShell serves a shell over a fake node and returns a repo whose api
// file points at it, as a running daemon's would.
func cliShell(t *testing.T, cfg shell.Config) (*shelltest.Backend, string) {
	t.Helper()
	b := shelltest.New()
	h, err := shell.New(cfg, b)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	repo := t.TempDir()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	if err := os.WriteFile(filepath.Join(repo, "api"), []byte("/ip4/"+host+"/tcp/"+port+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return b, repo
}

// testConfig is the documented config.yaml, as main embeds it.
func testConfig(t *testing.T) []byte {
	t.Helper()
	_, here, _, _ := runtime.Caller(0) // absolute, whatever the test's working directory
	data, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// cliRun runs one command line through the command tree, returning its
// stdout and the error cobra returned (before it becomes an exit code).
func cliRun(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRoot(testConfig(t))
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(t.Context())
	return out.String(), err
}

// cliExit runs a command line as main does: stdout, stderr, exit code.
func cliExit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, &out, &errOut, testConfig(t))
	return out.String(), errOut.String(), code
}

func cliOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cliRun(t, args...)
	if err != nil {
		t.Fatalf("cairn %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// cliClosedAPI is an address where nothing listens.
func cliClosedAPI(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "/ip4/127.0.0.1/tcp/" + port
}

func TestCLIAddCatGet(t *testing.T) {
	_, repo := cliShell(t, shell.Config{})
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	data := []byte("hello from the cli")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := shelltest.RawCid(data).String()

	if got := cliOK(t, "add", "--repo", repo, file); got != "added "+c+" notes.txt\n" {
		t.Fatalf("add printed %q", got)
	}
	// Flags after the argument work too.
	if got := cliOK(t, "add", file, "-q", "--repo", repo); got != c+"\n" {
		t.Fatalf("add -q printed %q", got)
	}
	if got := cliOK(t, "cat", c, "--repo", repo); got != string(data) {
		t.Fatalf("cat printed %q", got)
	}
	if got := cliOK(t, "cat", "--repo", repo, "--offset", "6", "--length", "4", "/ipfs/"+c); got != "from" {
		t.Fatalf("cat range printed %q", got)
	}

	out := filepath.Join(dir, "copy.txt")
	cliOK(t, "get", "--repo", repo, c, "-o", out)
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get wrote %q, %v", got, err)
	}
	t.Chdir(dir)
	cliOK(t, "get", "--repo", repo, c)
	if got, err := os.ReadFile(filepath.Join(dir, c)); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get without -o wrote %q, %v", got, err)
	}
}

func TestCLIGetDirectory(t *testing.T) {
	b, repo := cliShell(t, shell.Config{})
	c := b.AddDirectory(map[string][]byte{"a.txt": []byte("A"), "b.txt": []byte("B")}).String()
	out := filepath.Join(t.TempDir(), "dir")

	cliOK(t, "get", "--repo", repo, "--timeout", "10s", c, "-o", out)

	for name, want := range map[string]string{"a.txt": "A", "b.txt": "B"} {
		if got, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestCLINodeCommands(t *testing.T) {
	b, repo := cliShell(t, shell.Config{Version: "1.2.3", Commit: "abc"})
	p1 := shelltest.PeerID(1)
	b.PeerList = []shell.PeerInfo{{ID: p1, Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: "inbound", Latency: 3 * time.Millisecond}}
	target := b.AddFile([]byte("wanted"))
	b.Providers[target] = []libp2ppeer.AddrInfo{{ID: p1}, {ID: shelltest.PeerID(2)}}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"id"}, `"ID": "` + b.Self.ID.String() + `"`},
		{[]string{"swarm", "peers"}, "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String() + "\n"},
		{[]string{"swarm", "peers", "-v"}, "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String() + " 3ms inbound\n"},
		{[]string{"peers", "-v"}, "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String() + " 3ms inbound\n"},
		{[]string{"swarm", "connect", "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String()}, "connect " + p1.String() + " success\n"},
		{[]string{"connect", "/ip4/10.0.0.1/tcp/4001/p2p/" + p1.String()}, "connect " + p1.String() + " success\n"},
		{[]string{"routing", "findprovs", target.String(), "-n", "2"}, p1.String() + "\n" + shelltest.PeerID(2).String() + "\n"},
		{[]string{"findprovs", target.String(), "-n", "2"}, p1.String() + "\n" + shelltest.PeerID(2).String() + "\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got := cliOK(t, append(tt.args, "--repo", repo)...)
			if !strings.Contains(got, tt.want) {
				t.Fatalf("printed %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestCLIErrorsAreClearOneLiners(t *testing.T) {
	_, repo := cliShell(t, shell.Config{})
	closed := cliClosedAPI(t)
	absent := shelltest.RawCid([]byte("absent")).String()
	tests := []struct {
		name string
		args []string
		want string
	}{
		// With nothing listening at --api, these prove no request was made.
		{"malformed CID", []string{"cat", "--api", closed, "not-a-cid"}, `invalid CID "not-a-cid"`},
		{"malformed multiaddr", []string{"connect", "--api", closed, "/ip4/300.1.1.1/tcp/1"}, `invalid multiaddr "/ip4/300.1.1.1/tcp/1"`},
		{"no peer ID", []string{"connect", "--api", closed, "/ip4/10.0.0.1/tcp/1"}, "no /p2p/<peer-id> part"},
		{"missing file", []string{"add", "--api", closed, filepath.Join(t.TempDir(), "nope.txt")}, "nope.txt"},
		{"no api file", []string{"id", "--repo", t.TempDir()}, "no running daemon: "},
		{"nothing listening", []string{"id", "--api", closed}, "no running daemon: cannot reach " + closed},
		{"not found in time", []string{"cat", "--repo", repo, "--timeout", "50ms", absent}, "content " + absent + " not found within 50ms"},
		{"no providers in time", []string{"findprovs", "--repo", repo, "--timeout", "50ms", absent}, "no providers of " + absent + " found within 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cliRun(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestCLIUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"cat"},
		{"cat", "a", "b"},
		{"id", "extra"},
		{"add", "--frobnicate", "x"},
		{"connect"},
		{"swarm", "connect"},
		{"pin"},
		{"pin", "frob"},
		{"pin", "ls", "--pin-roots=false"},
		{"repo", "gc", "--pin-roots=false"},
		{"dag", "import", "--recursive=false", "x.car"},
		{"stats", "dht", "mars"},
	} {
		if _, err := cliRun(t, args...); !errors.Is(err, errUsage) {
			t.Errorf("cairn %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	out, err := cliRun(t, "get", "-h")
	if err != nil || !strings.Contains(out, "cairn get CID") || !strings.Contains(out, "--timeout") {
		t.Fatalf("get -h: %v, printed %q", err, out)
	}
}

func TestCLIAccessToken(t *testing.T) {
	_, repo := cliShell(t, shell.Config{AccessToken: "tok"})
	if _, err := cliRun(t, "id", "--repo", repo); err == nil || !strings.Contains(err.Error(), "CAIRN_API_TOKEN") {
		t.Fatalf("without the token: %v", err)
	}
	t.Setenv("CAIRN_API_TOKEN", "tok")
	cliOK(t, "id", "--repo", repo)
}

func TestOpenWithinGivesUpOnlyBeforeTheAnswer(t *testing.T) {
	id := shelltest.RawCid([]byte("slow"))
	hang := func(ctx context.Context) (io.ReadCloser, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	_, err := openWithin(context.Background(), 10*time.Millisecond, id, hang)
	if err == nil || !strings.Contains(err.Error(), "content "+id.String()+" not found within 10ms") {
		t.Fatalf("err = %v", err)
	}

	answer := func(ctx context.Context) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader("data")), nil
	}
	rc, err := openWithin(context.Background(), time.Hour, id, answer)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if got, _ := io.ReadAll(rc); string(got) != "data" {
		t.Fatalf("read %q", got)
	}
}

func TestExtractTarRefusesEscapes(t *testing.T) {
	tests := []struct {
		name  string
		entry tar.Header
	}{
		{"parent", tar.Header{Name: "root/../escaped", Typeflag: tar.TypeReg}},
		{"outside root", tar.Header{Name: "other/file", Typeflag: tar.TypeReg}},
		{"absolute", tar.Header{Name: "/tmp/escaped", Typeflag: tar.TypeReg}},
		{"symlink", tar.Header{Name: "root/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}},
		{"hard link", tar.Header{Name: "root/link", Typeflag: tar.TypeLink, Linkname: "../../x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			out := filepath.Join(base, "out")
			archive := cliTar(t, tar.Header{Name: "root", Typeflag: tar.TypeDir}, tt.entry)

			if err := extractTar(bytes.NewReader(archive), "root", out); err == nil {
				t.Fatal("extractTar accepted the entry")
			}
			if _, err := os.Lstat(filepath.Join(base, "escaped")); !os.IsNotExist(err) {
				t.Fatalf("a file was written outside %s", out)
			}
		})
	}
}

// cliTar builds an archive of empty entries.
func cliTar(t *testing.T, headers ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range headers {
		h.Mode = 0o644
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
