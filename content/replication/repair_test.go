package replication

import (
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"time"
)

// The whole life of a replicated pin on 8 peers: 3 copies placed, two
// holders lost and replaced, the origin lost and the closest holder
// leading, then everyone back and the surplus released.
func TestRepairKeepsTheFactor(t *testing.T) {
	d := newDAG(t, 8)
	sw := newSwarm(t, 8, testConfig(), d)
	const origin = 0
	sw.store[origin].add(d)
	st, err := sw.srv[origin].Replicate(t.Context(), d.root, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.Live != 3 || len(st.Holders) != 3 {
		t.Fatalf("after Replicate: %d live of %d holders, want 3", st.Live, len(st.Holders))
	}
	first := sw.waitHolders(d.root, origin, 3, 5*time.Second)

	// The two holders besides the origin die.
	var lost []int
	for _, i := range first {
		if i != origin {
			sw.kill(i)
			lost = append(lost, i)
		}
	}
	second := sw.waitHolders(d.root, origin, 3, 10*time.Second)
	for _, i := range lost {
		if slices.Contains(second, i) {
			t.Fatalf("dead peer %d counted as a holder", i)
		}
	}

	// The origin dies: the closest live holder leads, and finds a third.
	sw.kill(origin)
	third := sw.waitHolders(d.root, -1, 3, 10*time.Second)
	if slices.Contains(third, origin) {
		t.Fatal("dead origin counted")
	}

	// Everyone comes back: the surplus goes, the origin keeps its copy.
	for _, i := range append(lost, origin) {
		sw.revive(i)
	}
	final := sw.waitHolders(d.root, origin, 3, 15*time.Second)
	if !slices.Contains(final, origin) {
		t.Fatalf("holders %v: the origin's copy should stay", final)
	}
	waitFor(t, "the origin to count 3 live copies", 10*time.Second, func() bool {
		st, err := sw.srv[origin].Status(d.root)
		return err == nil && st.Live == 3
	})
}

// A holder that says yes without the bytes fails the proof and is
// replaced, and released.
func TestLiarIsReplaced(t *testing.T) {
	d := newDAG(t, 8)
	sw := newSwarm(t, 5, testConfig(), d)
	sw.store[0].add(d)
	if _, err := sw.srv[0].Replicate(t.Context(), d.root, 2); err != nil {
		t.Fatal(err)
	}
	held := sw.waitHolders(d.root, 0, 2, 5*time.Second)
	liar := held[slices.IndexFunc(held, func(i int) bool { return i != 0 })]
	sw.store[liar].lie = true
	sw.store[liar].forget()

	waitFor(t, "the liar to be replaced", 10*time.Second, func() bool {
		st, err := sw.srv[0].Status(d.root)
		if err != nil || st.Live != 2 {
			return false
		}
		return !slices.ContainsFunc(st.Holders, func(h Holder) bool { return h.Peer == sw.hosts[liar].ID() })
	})
	waitFor(t, "the liar to be released", 5*time.Second, func() bool {
		_, err := sw.srv[liar].Status(d.root)
		return err != nil && !sw.store[liar].isPinned(d.root)
	})
}

// Unreplicate releases every copy it asked for; the origin keeps its own.
func TestUnreplicateReleases(t *testing.T) {
	d := newDAG(t, 4)
	sw := newSwarm(t, 4, testConfig(), d)
	sw.store[0].add(d)
	if _, err := sw.srv[0].Replicate(t.Context(), d.root, 3); err != nil {
		t.Fatal(err)
	}
	held := sw.waitHolders(d.root, 0, 3, 5*time.Second)
	if err := sw.srv[0].Unreplicate(t.Context(), d.root); err != nil {
		t.Fatal(err)
	}
	for _, i := range held {
		if i != 0 && sw.store[i].isPinned(d.root) {
			t.Fatalf("peer %d still pins its replica", i)
		}
	}
	if _, err := sw.srv[0].Status(d.root); err == nil {
		t.Fatal("status of a released pin should fail")
	}
}

// An untrusted peer's "hold this" is refused with the reason, visible to
// the asker, and nothing is fetched.
func TestUntrustedAskerIsRefused(t *testing.T) {
	d := newDAG(t, 4)
	cfg := testConfig()
	cfg.Private = false
	sw := newSwarm(t, 2, cfg, d)
	sw.store[0].add(d)
	st, err := sw.srv[0].Replicate(t.Context(), d.root, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Live != 1 || len(st.Refusals) != 1 || st.Refusals[0].Peer != sw.hosts[1].ID() {
		t.Fatalf("status %+v: want 1 live and peer 1's refusal", st)
	}
	if st.Refusals[0].Reason != errNotTrusted.Error() {
		t.Fatalf("refusal %q, want %q", st.Refusals[0].Reason, errNotTrusted)
	}
	if n := sw.store[1].holdCalls(); n != 0 {
		t.Fatalf("untrusted request made %d fetches", n)
	}
}

// A trusted peer listed in replication.trusted holds without a private
// network.
func TestTrustedListAccepts(t *testing.T) {
	d := newDAG(t, 4)
	cfg := testConfig()
	cfg.Private = false
	sw := newSwarm(t, 2, cfg, d)
	sw.srv[1].Close()
	cfg.Trusted = []string{sw.hosts[0].ID().String()}
	sw.cfg = cfg
	sw.start(1)
	sw.store[0].add(d)
	st, err := sw.srv[0].Replicate(t.Context(), d.root, 2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Live != 2 || !sw.store[1].isPinned(d.root) {
		t.Fatalf("status %+v: want 2 live", st)
	}
}

// An origin that lost its blocks (a crash before they reached the disk)
// cannot challenge anyone: the closest holder leads instead, and the
// origin, asked to hold, fetches its copy back rather than claim it.
func TestOriginWithoutItsBlocksStepsAside(t *testing.T) {
	d := newDAG(t, 8)
	sw := newSwarm(t, 6, testConfig(), d)
	sw.store[0].add(d)
	if _, err := sw.srv[0].Replicate(t.Context(), d.root, 3); err != nil {
		t.Fatal(err)
	}
	sw.waitHolders(d.root, 0, 3, 5*time.Second)
	sw.store[0].forget()
	waitFor(t, "3 holders that can prove it, the origin back among them", 10*time.Second, func() bool {
		n := 0
		for _, srv := range sw.srv {
			if _, err := srv.Status(d.root); err == nil && canLeadT(t, srv, d.root) {
				n++
			}
		}
		return n == 3 && canLeadT(t, sw.srv[0], d.root)
	})
}

func canLeadT(t *testing.T, srv *Service, root cid.Cid) bool {
	_, err := newChallenge(t.Context(), srv.store, root)
	return err == nil
}
