package discovery

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// inNetnsEnv marks the copy of the test binary that runs inside a network
// namespace of its own.
const inNetnsEnv = "CAIRN_TEST_IN_NETNS"

// runInNetns re-runs the calling test inside a new network namespace whose
// only interface is loopback, up and with multicast on, so mDNS traffic
// never reaches the machine's network. It reports true in the parent,
// whose work is then done (the child's result is the parent's).
func runInNetns(t *testing.T) (parent bool) {
	t.Helper()
	if os.Getenv(inNetnsEnv) == "1" {
		return false
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("mDNS test needs a network namespace: unshare(1) not found")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("mDNS test needs a network namespace: ip(8) not found")
	}
	// -r maps the caller to root in a new user namespace, so this also works
	// unprivileged where user namespaces are allowed.
	script := `ip link set lo up && ip link set lo multicast on && exec "$0" "$@"`
	args := []string{"-r", "-n", "sh", "-c", script, os.Args[0], "-test.run=^" + t.Name() + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	if probe := exec.Command(unshare, "-r", "-n", "sh", "-c", "ip link set lo up && ip link set lo multicast on"); probe.Run() != nil {
		out, _ := exec.Command(unshare, "-r", "-n", "true").CombinedOutput()
		t.Skipf("mDNS test needs a network namespace, which this machine forbids: %s", strings.TrimSpace(string(out)))
	}
	cmd := exec.CommandContext(t.Context(), unshare, args...)
	cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespace:\n%s", out)
	if err != nil {
		t.Fatalf("test inside the network namespace failed: %v", err)
	}
	return true
}

// Two peers on the same loopback, with no bootstrap and no routing, find
// each other by mDNS.
func TestMDNSFindsPeersWithoutBootstrap(t *testing.T) {
	if runInNetns(t) {
		return
	}
	a := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	b := newHost(t, newKey(t), "/ip4/127.0.0.1/tcp/0")
	cfg := testConfig()
	cfg.MDNS = true
	startDiscovery(t, a, nil, nil, cfg, 32)
	startDiscovery(t, b, nil, nil, cfg, 32)
	waitFor(t, "a and b connected by mDNS", 20*time.Second, func() bool {
		return a.Network().Connectedness(b.ID()) == network.Connected
	})
}
