package peer

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content"
	"github.com/cairnnet/cairn/content/replication"
	"github.com/cairnnet/cairn/shell"
	"github.com/ipfs/go-cid"
	libp2ppeer "github.com/libp2p/go-libp2p/core/peer"
)

// replNet is a private network of cairn nodes on disk repos, which can be
// stopped and started again on the same repo.
type replNet struct {
	t     *testing.T
	cfgs  []Config
	nodes []*Node // nil while stopped
}

func newReplNet(t *testing.T, n int) *replNet {
	rn := &replNet{t: t}
	var key []byte
	for i := range n {
		dir := t.TempDir()
		if _, err := InitRepo(dir, []byte("")); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := GenerateSwarmKey(dir); err != nil {
				t.Fatal(err)
			}
			var err error
			if key, err = os.ReadFile(filepath.Join(dir, SwarmKeyFile)); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(filepath.Join(dir, SwarmKeyFile), key, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := testConfig()
		cfg.RepoDir = dir
		cfg.Datastore = DatastoreConfig{Type: "disk"}
		cfg.Replication.CheckInterval = 300 * time.Millisecond
		cfg.Replication.MaxBackoff = time.Second
		cfg.Replication.RequestTimeout = 5 * time.Second
		cfg.Replication.HoldTimeout = time.Minute
		cfg.Replication.RequestRate = 1000
		rn.cfgs = append(rn.cfgs, cfg)
		rn.nodes = append(rn.nodes, nil)
		rn.start(i)
	}
	t.Cleanup(func() {
		for i := range rn.nodes {
			rn.stop(i)
		}
	})
	return rn
}

// start starts node i and connects it to every running node.
func (rn *replNet) start(i int) {
	n, err := New(context.Background(), rn.cfgs[i])
	if err != nil {
		rn.t.Fatal(err)
	}
	rn.nodes[i] = n
	for j, o := range rn.nodes {
		if j == i || o == nil {
			continue
		}
		if err := n.Host().Connect(rn.t.Context(), libp2ppeer.AddrInfo{ID: o.Host().ID(), Addrs: o.Host().Addrs()}); err != nil {
			rn.t.Fatal(err)
		}
		// A restarted node may have dialled its remembered peers before
		// this, so wait on what identify leaves behind, not on its event.
		waitFor(rn.t, "identify", 10*time.Second, func() bool {
			ok, err := n.Host().Peerstore().SupportsProtocols(o.Host().ID(), replication.ProtocolID)
			return err == nil && len(ok) > 0
		})
	}
}

func (rn *replNet) stop(i int) {
	if n := rn.nodes[i]; n != nil {
		rn.nodes[i] = nil
		if err := n.Close(); err != nil {
			rn.t.Errorf("close node %d: %v", i, err)
		}
	}
}

// holders are the running nodes that keep root: a record of it, and a pin.
func (rn *replNet) holders(root cid.Cid) []int {
	var out []int
	for i, n := range rn.nodes {
		if n == nil {
			continue
		}
		if _, err := n.Replication().Status(root); err != nil {
			continue
		}
		st, err := n.Content().CheckPins(context.Background(), root)
		if err == nil && len(st) == 1 && st[0].Type != "" {
			out = append(out, i)
		}
	}
	return out
}

// dump logs what each running node knows of root.
func (rn *replNet) dump(root cid.Cid) {
	for i, n := range rn.nodes {
		if n == nil {
			continue
		}
		st, err := n.Replication().Status(root)
		rn.t.Logf("node %d %s: %+v %v", i, n.Host().ID(), st, err)
	}
}

func (rn *replNet) waitHolders(root cid.Cid, want int, d time.Duration) []int {
	rn.t.Helper()
	var got []int
	start := time.Now()
	deadline := time.After(d)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for got = rn.holders(root); len(got) != want; got = rn.holders(root) {
		select {
		case <-deadline:
			rn.dump(root)
			rn.t.Fatalf("timed out after %s waiting for %d holders: %v", d, want, got)
		case <-tick.C:
		}
	}
	rn.t.Logf("%d holders %v after %s", want, got, time.Since(start).Round(time.Millisecond))
	return got
}

// The scenario on real nodes: 8 peers, a 20 MiB file pinned with
// 3 copies; two holders die and are replaced, the bytes come from a peer
// that never held them, the pinner dies and the count recovers, and when
// all come back the surplus is released.
func TestReplicationSurvivesLosingHoldersAndItsPinner(t *testing.T) {
	rn := newReplNet(t, 8)
	data := make([]byte, 20<<20)
	rand.Read(data)
	origin := rn.nodes[0]
	res, err := origin.Content().Import(t.Context(), bytes.NewReader(data), content.ImportOptions{Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	root := res.Cid
	st, err := origin.Replication().Replicate(t.Context(), root, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.Live != 3 {
		t.Fatalf("Replicate: %d live copies, refusals %v", st.Live, st.Refusals)
	}
	first := rn.waitHolders(root, 3, 90*time.Second)
	ever := slices.Clone(first)

	var killed []int
	for _, i := range first {
		if i != 0 {
			rn.stop(i)
			killed = append(killed, i)
		}
	}
	second := rn.waitHolders(root, 3, 90*time.Second)
	ever = append(ever, second...)

	stranger := -1
	for i, n := range rn.nodes {
		if n != nil && !slices.Contains(ever, i) {
			stranger = i
		}
	}
	if stranger < 0 {
		t.Fatal("no node left that never held the file")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if got := readAll(t, ctx, rn.nodes[stranger], root); !bytes.Equal(got, data) {
		t.Fatal("bytes read from the holders differ")
	}

	rn.stop(0)
	killed = append(killed, 0)
	rn.waitHolders(root, 3, 90*time.Second)

	for _, i := range killed {
		rn.start(i)
	}
	final := rn.waitHolders(root, 3, 90*time.Second)
	if !slices.Contains(final, 0) {
		t.Fatalf("holders %v: the pinner's own copy should stay", final)
	}
	waitFor(t, "the pinner to prove 3 live copies", 30*time.Second, func() bool {
		st, err := rn.nodes[0].Replication().Status(root)
		return err == nil && st.Live == 3
	})
}

// A user's pin and a replica pin of the same root live side by side:
// unpinning one leaves the other, and pin ls shows both as one line.
func TestReplicaAndUserPinDoNotClobber(t *testing.T) {
	rn := newReplNet(t, 2)
	a, b := rn.nodes[0], rn.nodes[1]
	res, err := a.Content().Import(t.Context(), bytes.NewReader(bytes.Repeat([]byte("cairn "), 100000)), content.ImportOptions{Pin: true})
	if err != nil {
		t.Fatal(err)
	}
	root := res.Cid
	if st, err := a.Replication().Replicate(t.Context(), root, 2); err != nil || st.Live != 2 {
		t.Fatalf("replicate: %+v %v", st, err)
	}
	pinType := func(n *Node) shell.PinStatus {
		pins, err := (&backend{n: n}).ListPins(t.Context(), shell.PinRecursive, shell.PinDirect, shell.PinIndirect)
		if err != nil {
			t.Fatal(err)
		}
		var out shell.PinStatus
		for _, p := range pins {
			if p.Cid == replicaPin(root) {
				t.Fatalf("pin ls shows the replica's pin node: %+v", pins)
			}
			if p.Cid == root {
				out = p
			}
		}
		return out
	}
	if p := pinType(a); p.Type != shell.PinRecursive || p.Replication != 2 {
		t.Fatalf("origin's pin ls: %+v", p)
	}
	if p := pinType(b); p.Type != shell.PinRecursive || !p.Replica {
		t.Fatalf("holder's pin ls: %+v", p)
	}
	// The holder's user pins the root and unpins it: the replica stays.
	if err := b.Content().Pin(t.Context(), root, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Content().Unpin(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	if p := pinType(b); !p.Replica || p.Type != shell.PinRecursive {
		t.Fatalf("after the user's unpin: %+v", p)
	}
	// The user pins again; releasing the replica leaves the user's pin.
	if err := b.Content().Pin(t.Context(), root, true); err != nil {
		t.Fatal(err)
	}
	if err := a.Replication().Unreplicate(t.Context(), root); err != nil {
		t.Fatal(err)
	}
	if p := pinType(b); p.Replica || p.Type != shell.PinRecursive {
		t.Fatalf("after the release: %+v", p)
	}
}
