package interop

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/internal/daemonproc"
)

// kuboEnv is added to every Kubo process: telemetry off (Kubo 0.43 reads
// IPFS_TELEMETRY; the plugin would otherwise phone home).
var kuboEnv = []string{"IPFS_TELEMETRY=off"}

// kuboRepo is an initialised Kubo repo, with or without a daemon on it.
type kuboRepo struct {
	path string // IPFS_PATH
}

// newKuboRepo runs `ipfs init --profile=test,unixfs-v1-2025` in a temp
// IPFS_PATH and then pins down everything that could reach beyond
// loopback: DHT routing with an empty bootstrap list, loopback-only
// addresses on port 0, mDNS off, and loopback addresses kept in LAN DHT
// records so that peers on one machine can dial each other.
func newKuboRepo(t *testing.T) *kuboRepo {
	t.Helper()
	needKubo(t)
	k := &kuboRepo{path: filepath.Join(t.TempDir(), "kubo")}
	if _, errOut, code := k.run(t, time.Minute, "init", "--profile=test,unixfs-v1-2025"); code != 0 {
		t.Fatalf("ipfs init: exit %d: %s", code, errOut)
	}
	k.editConfig(t, daemonproc.KuboLocal)
	return k
}

// editConfig rewrites the repo's config file in place: one read and one
// write instead of an `ipfs config` process per key.
func (k *kuboRepo) editConfig(t *testing.T, edit func(map[string]any)) {
	t.Helper()
	file := filepath.Join(k.path, "config")
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("Kubo config: %v", err)
	}
	edit(cfg)
	raw, err = json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs the ipfs CLI on this repo (through its daemon if one runs).
func (k *kuboRepo) run(t *testing.T, timeout time.Duration, args ...string) (string, string, int) {
	t.Helper()
	return runCmd(t, timeout, append([]string{"IPFS_PATH=" + k.path}, kuboEnv...), kuboBin, args...)
}

func (k *kuboRepo) ok(t *testing.T, timeout time.Duration, args ...string) string {
	t.Helper()
	out, errOut, code := k.run(t, timeout, args...)
	if code != 0 {
		t.Fatalf("ipfs %s: exit %d: %s", strings.Join(args, " "), code, strings.TrimSpace(errOut))
	}
	return out
}

// kuboNode is a running `ipfs daemon`.
type kuboNode struct {
	*kuboRepo
	proc    *daemonproc.Proc
	api     string // RPC multiaddr
	gateway string // http://host:port
	id      string
	swarm   []string // loopback multiaddrs ending in /p2p/<id>
}

// startKubo initialises a repo, applies edits to its config, and runs
// `ipfs daemon` on it until the test ends.
func startKubo(t *testing.T, edits ...func(cfg map[string]any)) *kuboNode {
	t.Helper()
	k := &kuboNode{kuboRepo: newKuboRepo(t)}
	for _, edit := range edits {
		k.editConfig(t, edit)
	}
	cmd := exec.Command(kuboBin, "daemon")
	cmd.Env = append(append(os.Environ(), "IPFS_PATH="+k.path), kuboEnv...)
	var out daemonproc.Kubo
	p, err := daemonproc.Start("ipfs daemon", cmd, out.Line)
	if err != nil {
		t.Fatal(err)
	}
	k.proc = p
	t.Cleanup(func() { k.stop(t) })
	if err := p.WaitReady(t.Context(), 90*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, p.Stderr())
	}
	k.api, k.gateway = out.API, out.Gateway
	var id struct {
		ID        string
		Addresses []string
	}
	rpcJSON(t, k.api, "id", nil, &id)
	k.id = id.ID
	for _, a := range id.Addresses {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			k.swarm = append(k.swarm, a)
		}
	}
	if k.id == "" || len(k.swarm) == 0 {
		t.Fatalf("ipfs id gave no ID or no loopback TCP address: %+v", id)
	}
	return k
}

// stop sends SIGTERM and waits for Kubo to shut down. How Kubo exits is
// its own business; only one that ignores SIGTERM fails the test.
func (k *kuboNode) stop(t *testing.T) {
	t.Helper()
	select {
	case <-k.proc.Exited():
		return
	default:
	}
	if err := k.proc.Stop(30 * time.Second); err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Errorf("ipfs daemon on %s: %v", k.path, err)
	}
}

// gatewayURL is Kubo's gateway as http://host:port.
func (k *kuboNode) gatewayURL(t *testing.T) string {
	t.Helper()
	return "http://" + hostPort(t, k.gateway)
}

// rpcJSON POSTs /api/v0/<cmd>?arg=… to api and decodes a 200's JSON body.
func rpcJSON(t *testing.T, api, cmd string, args []string, out any) {
	t.Helper()
	u := "http://" + hostPort(t, api) + "/api/v0/" + cmd
	if len(args) > 0 {
		u += "?arg=" + strings.Join(args, "&arg=")
	}
	resp, err := httpClient.Post(u, "", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %s: %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("POST %s: %v in %s", u, err, body)
	}
}

// httpClient bounds every direct HTTP request of the tests.
var httpClient = &http.Client{Timeout: 60 * time.Second}
