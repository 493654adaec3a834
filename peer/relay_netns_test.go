package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// inNetnsEnv marks the copy of the test binary that runs inside a network
// namespace of its own.
const inNetnsEnv = "CAIRN_TEST_IN_NETNS"

// publicIP is a globally routable address given to the namespace's
// loopback. go-libp2p treats only public addresses as worth relaying to
// (AutoRelay drops a relay's private and loopback addresses), so this is
// what lets a relay address appear on one machine. The namespace has no
// route out, so nothing is ever sent to the real 7.7.7.1.
const publicIP = "7.7.7.1"

// runInNetns re-runs the calling test inside a new network namespace whose
// loopback also holds publicIP. It reports true in the parent, whose work
// is then done (the child's result is the parent's).
func runInNetns(t *testing.T) (parent bool) {
	t.Helper()
	if os.Getenv(inNetnsEnv) == "1" {
		return false
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs a network namespace: unshare(1) not found")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs a network namespace: ip(8) not found")
	}
	setup := "ip link set lo up && ip addr add " + publicIP + "/32 dev lo"
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
	cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("inside the namespace:\n%s", out)
	if err != nil {
		t.Fatalf("test inside the network namespace failed: %v", err)
	}
	return true
}

// With a relay on a public address, a peer behind NAT (C) advertises a
// relay address through it, /api/v0/id reports that address and the
// peer's reachability, and another peer behind NAT (A) reaches C at the
// very address C advertised and fetches content from it through the relay.
func TestIdentityAdvertisesRelayAddresses(t *testing.T) {
	if runInNetns(t) {
		return
	}
	bcfg := testConfig()
	bcfg.Swarm.Listen = []string{"/ip4/" + publicIP + "/tcp/0"}
	bcfg.Reachability.Force = ForcePublic
	bcfg.Reachability.RelayDurationLimit, bcfg.Reachability.RelayDataLimit = 0, 0
	b := newTestNode(t, bcfg)
	a := newTestNode(t, behindRelay(b))
	c := newTestNode(t, behindRelay(b))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	be := &backend{n: c}
	var advertised []ma.Multiaddr
	waitFor(t, "C's identity to list a relay address through B", 20*time.Second, func() bool {
		id, err := be.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		advertised = advertised[:0]
		for _, addr := range id.Addresses {
			if strings.Contains(addr.String(), "/p2p/"+b.Host().ID().String()+"/p2p-circuit") {
				advertised = append(advertised, addr)
			}
		}
		return len(advertised) > 0 && id.Reachability == "private"
	})
	t.Logf("C advertises %v", advertised)

	if err := a.Host().Connect(ctx, libp2ppeer.AddrInfo{ID: c.Host().ID(), Addrs: advertised}); err != nil {
		t.Fatalf("A could not reach C at its advertised relay address: %v", err)
	}
	data := make([]byte, 100<<10)
	rand.Read(data)
	res, err := c.Content().Import(ctx, bytes.NewReader(data), content.ImportOptions{CIDVersion: -1, Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, ctx, a, res.Cid); !bytes.Equal(got, data) {
		t.Fatalf("A read %d bytes that differ from the %d C added", len(got), len(data))
	}
}
