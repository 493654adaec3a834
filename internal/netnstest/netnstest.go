// Package netnstest runs a test inside a network namespace of its own, so
// that a test which sends multicast (mDNS) or needs addresses the machine
// does not have (a public-looking IP for relay tests) never touches the
// machine's real network. It is test support, not part of Cairn's API.
package netnstest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// insideEnv marks the re-run test process that is already inside the
// namespace.
const insideEnv = "CAIRN_TEST_IN_NETNS"

// Run re-runs the calling test inside a new network namespace, after setup
// (a shell command, e.g. `ip link set lo up`) has run in it. It returns true
// in the parent, whose work is then done: the child's result is reported as
// the parent's. It returns false in the child, which goes on with the test.
// Where the machine forbids namespaces, or lacks unshare(1) or ip(8), the
// test is skipped with the reason.
func Run(t *testing.T, setup string) (parent bool) {
	t.Helper()
	if os.Getenv(insideEnv) == "1" {
		return false
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs a network namespace: unshare(1) not found")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs a network namespace: ip(8) not found")
	}
	// -r maps the caller to root in a new user namespace, so this also
	// works unprivileged where user namespaces are allowed.
	if out, err := exec.Command(unshare, "-r", "-n", "sh", "-c", setup).CombinedOutput(); err != nil {
		t.Skipf("needs a network namespace, which this machine forbids: %v %s", err, strings.TrimSpace(string(out)))
	}
	args := []string{"-r", "-n", "sh", "-c", setup + ` && exec "$0" "$@"`, os.Args[0], "-test.run=^" + t.Name() + "$", "-test.count=1"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.CommandContext(t.Context(), unshare, args...)
	cmd.Env = append(os.Environ(), insideEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespace:\n%s", out)
	if err != nil {
		t.Fatalf("test inside the network namespace failed: %v", err)
	}
	return true
}
