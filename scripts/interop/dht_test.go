package interop

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Cairn peers with dht.protocol_prefix /ipfs and a Kubo node form one DHT
// on loopback. The chain is Kubo ← A ← B: B is never told about Kubo, so
// whatever B learns of Kubo, and Kubo of B, comes through the DHT.
func TestDHT(t *testing.T) {
	t.Parallel()
	k := startKubo(t)
	a := startCairn(t, "--bootstrap", k.swarm[0])
	b := startCairn(t, "--bootstrap", a.swarm[0])

	// Loopback peers meet only in the LAN DHTs, so both must speak its
	// protocol; without it the lookups below can only time out.
	const lanDHT = "/ipfs/lan/kad/1.0.0"
	shared := false
	t.Run("cairn_speaks_kubos_lan_dht_protocol", func(t *testing.T) {
		var kid, cid struct{ Protocols []string }
		rpcJSON(t, k.api, "id", nil, &kid)
		rpcJSON(t, a.api, "id", nil, &cid)
		if !slices.Contains(kid.Protocols, lanDHT) {
			t.Fatalf("Kubo does not serve %s (it serves %v): this check's assumption is wrong", lanDHT, kadProtocols(kid.Protocols))
		}
		if !slices.Contains(cid.Protocols, lanDHT) {
			t.Fatalf("Cairn with dht.protocol_prefix /ipfs serves %v but not %s, Kubo's LAN DHT protocol: on loopback they never form one DHT",
				kadProtocols(cid.Protocols), lanDHT)
		}
		shared = true
	})
	needShared := func(t *testing.T) {
		t.Helper()
		if !shared {
			t.Fatal("cannot run: Cairn and Kubo share no LAN DHT protocol (see cairn_speaks_kubos_lan_dht_protocol)")
		}
	}

	t.Run("kubo_finds_cairn_provider", func(t *testing.T) {
		needShared(t)
		path, want := randomFile(t, 3<<20+5)
		root := lastLine(b.ok(t, time.Minute, "add", "-q", path))
		eventually(t, 45*time.Second, 500*time.Millisecond, "ipfs routing findprovs "+root, func() (bool, string) {
			out, errOut, code := k.run(t, 20*time.Second, "routing", "findprovs", "--num-providers=1", "--timeout=10s", root)
			if strings.Contains(out, b.id) {
				return true, ""
			}
			return false, fmt.Sprintf("Kubo found [%s] (exit %d %s), not Cairn peer %s", strings.Join(strings.Fields(out), " "), code, oneLine(errOut), b.id)
		})
		got := k.ok(t, 2*time.Minute, "cat", "--timeout=90s", root)
		if s := sha([]byte(got)); s != want {
			t.Fatalf("ipfs cat %s through the DHT: SHA-256 %s, want %s", root, s, want)
		}
	})

	t.Run("cairn_finds_kubo_provider", func(t *testing.T) {
		needShared(t)
		path, want := randomFile(t, 3<<20+5)
		root := lastLine(k.ok(t, time.Minute, "add", "-Q", path))
		eventually(t, 45*time.Second, 500*time.Millisecond, "cairn findprovs "+root, func() (bool, string) {
			out, errOut, code := b.run(t, 20*time.Second, "findprovs", "--timeout", "10s", root)
			if strings.Contains(out, k.id) {
				return true, ""
			}
			return false, fmt.Sprintf("Cairn found [%s] (exit %d %s), not Kubo %s", strings.Join(strings.Fields(out), " "), code, oneLine(errOut), k.id)
		})
		got := b.ok(t, 2*time.Minute, "cat", "--timeout", "90s", root)
		if s := sha([]byte(got)); s != want {
			t.Fatalf("cairn cat %s through the DHT: %d bytes, SHA-256 %s, want %s", root, len(got), s, want)
		}
	})
}

// kadProtocols picks the DHT protocols out of a peer's protocol list.
func kadProtocols(all []string) []string {
	var out []string
	for _, p := range all {
		if strings.HasSuffix(p, "/kad/1.0.0") {
			out = append(out, p)
		}
	}
	return out
}
