package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/cairnnet/cairn/peer"
)

var update = flag.Bool("update", false, "rewrite the golden --help files in testdata/help")

// allCommands is every command of the tree, cobra's own help and
// completion commands included, as paths below the root.
func allCommands(t *testing.T) [][]string {
	t.Helper()
	root := newRoot(testConfig(t))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			if !strings.HasPrefix(sub.Name(), "__") { // cobra's completion internals
				walk(sub, append(append([]string{}, path...), sub.Name()))
			}
		}
	}
	walk(root, nil)
	return paths
}

// Every command's --help is useful (it has a description and a usage line)
// and as committed under testdata/help; `go test ./cli -run Golden
// -update` rewrites them after a deliberate change.
func TestGoldenHelp(t *testing.T) {
	paths := allCommands(t)
	if len(paths) < 60 {
		t.Fatalf("only %d commands in the tree", len(paths))
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"cairn"}, path...), "_")
		t.Run(name, func(t *testing.T) {
			out, errOut, code := cliExit(t, append(path, "--help")...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if !strings.Contains(out, "Usage:") || len(strings.TrimSpace(strings.SplitN(out, "Usage:", 2)[0])) < 10 {
				t.Fatalf("no description or usage:\n%s", out)
			}
			golden := filepath.Join("testdata", "help", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./cli -run Golden -update)", err)
			}
			if out != string(want) {
				t.Fatalf("--help differs from %s (rerun with -update if meant):\n%s", golden, out)
			}
		})
	}
}

// -h, --help and `help CMD` say the same.
func TestHelpEverywhere(t *testing.T) {
	for _, path := range [][]string{{"pin", "add"}, {"swarm"}, {"daemon"}, {"config", "profile", "apply"}} {
		long, _, _ := cliExit(t, append(path, "--help")...)
		short, _, _ := cliExit(t, append(path, "-h")...)
		viaHelp, _, code := cliExit(t, append([]string{"help"}, path...)...)
		if code != 0 || long != short || long != viaHelp {
			t.Errorf("%v: -h, --help and help differ (help exit %d)", path, code)
		}
	}
	if _, errOut, code := cliExit(t, "help", "pin", "frob"); code != 2 || !strings.Contains(errOut, `no help topic "pin frob"`) {
		t.Errorf("help on an unknown topic: exit %d, %q", code, errOut)
	}
	// Each command lists its own flags only.
	pinHelp, _, _ := cliExit(t, "pin", "add", "-h")
	if strings.Contains(pinHelp, "--pin-roots") || strings.Contains(pinHelp, "--type") {
		t.Errorf("pin add -h lists other commands' flags:\n%s", pinHelp)
	}
}

// The exit code contract: 0 done, 1 failed, 2 not understood; errors are
// one line on stderr.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, ""},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"pin"}, 2, "pin needs a subcommand: add, ls, rm, status, verify"},
		{[]string{"repo", "gc", "--pin-roots=false"}, 2, "unknown flag: --pin-roots"},
		{[]string{"cat", "a", "b"}, 2, "cat takes one CID, got 2 arguments"},
		{[]string{"id", "--repo", t.TempDir()}, 1, "no running daemon"},
		{[]string{"log", "level", "all", "--repo", t.TempDir()}, 2, "log level takes a subsystem and a level, got 1 arguments"},
		{[]string{"init", "--repo", filepath.Join(t.TempDir(), "r"), "--profile", "turbo"}, 2, `unknown profile "turbo"`},
	}
	for _, tt := range tests {
		_, errOut, code := cliExit(t, tt.args...)
		if code != tt.code {
			t.Errorf("cairn %v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if tt.want == "" {
			continue
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "cairn: ") || !strings.Contains(errOut, tt.want) {
			t.Errorf("cairn %v: stderr %q, want one line with %q", tt.args, errOut, tt.want)
		}
	}
}

// version answers from the binary, with no daemon and no repo.
func TestVersionWithoutDaemon(t *testing.T) {
	t.Setenv("CAIRN_REPO", filepath.Join(t.TempDir(), "none"))
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, errOut, code := cliExit(t, args...)
		if code != 0 || out != "cairn version "+peer.Version+"\n" {
			t.Errorf("cairn %v: exit %d, %q, %q", args, code, out, errOut)
		}
	}
	out, _, code := cliExit(t, "version", "--enc=json")
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version != peer.Version || v.Repo != peer.RepoVersion || v.Golang == "" {
		t.Fatalf("version --enc=json: exit %d, %q, %v", code, out, err)
	}
	if out, _, _ := cliExit(t, "version", "--all"); !strings.Contains(out, "Repo version: "+peer.RepoVersion) {
		t.Fatalf("version --all: %q", out)
	}
}

// The bash completion script parses, and sourcing it registers cairn.
func TestCompletionScripts(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed to check the completion script: %v", err)
	}
	out, _, code := cliExit(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "__start_cairn") {
		t.Fatalf("completion bash: exit %d", code)
	}
	script := filepath.Join(t.TempDir(), "cairn.bash")
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v: %s", err, msg)
	}
	got, err := exec.Command(bash, "-c", "source "+script+" && complete -p cairn").CombinedOutput()
	if err != nil || !strings.Contains(string(got), "cairn") {
		t.Fatalf("complete -p cairn: %v: %s", err, got)
	}
	for _, sh := range []string{"zsh", "fish"} {
		if out, _, code := cliExit(t, "completion", sh); code != 0 || !strings.Contains(out, "cairn") {
			t.Errorf("completion %s: exit %d, %d bytes", sh, code, len(out))
		}
	}
	// The completions know the tree.
	out, _, _ = cliExit(t, "__complete", "sw")
	if !strings.Contains(out, "swarm") {
		t.Errorf("completing sw: %q", out)
	}
}

// init --profile writes the profiles into config.yaml, comments kept.
func TestInitProfile(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	out, errOut, code := cliExit(t, "init", "--repo", repo, "--profile", "server,lowpower")
	if code != 0 || !strings.Contains(out, "applied profile server,lowpower") {
		t.Fatalf("init: exit %d, %q, %q", code, out, errOut)
	}
	data, err := os.ReadFile(filepath.Join(repo, peer.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := peer.ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discovery.MDNS || cfg.DHT.Mode != "client" || cfg.Connections.High != 40 || len(cfg.Swarm.AddrFilters) != len(peer.PrivateAddrFilters) {
		t.Fatalf("profiles not applied: %+v", cfg)
	}
	if got, want := bytes.Count(data, []byte("\n  # ")), bytes.Count(testConfig(t), []byte("\n  # ")); got != want {
		t.Fatalf("%d comment lines, want %d", got, want)
	}
	// A bad profile name writes nothing.
	none := filepath.Join(t.TempDir(), "none")
	if _, _, code := cliExit(t, "init", "--repo", none, "-p", "test,nope"); code != 2 {
		t.Fatalf("init with an unknown profile: exit %d", code)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Fatalf("a refused init left %s: %v", none, err)
	}
}
