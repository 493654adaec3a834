package peer

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// The whole chain on a real repo: B joins through A alone and meets C by
// rendezvous; B remembers C in its on-disk datastore; A goes away; B
// restarts with only A's (dead) address configured and rejoins through C.
func TestRestartedNodeRejoinsWithoutItsBootstrap(t *testing.T) {
	a := newTestNode(t, testConfig())
	c := newTestNode(t, testConfig(a))

	dir := t.TempDir()
	if _, err := InitRepo(dir, []byte("")); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(a)
	cfg.RepoDir = dir
	cfg.Datastore.Type = "disk"
	b, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	waitFor(t, "B to meet C through rendezvous and remember it", 20*time.Second, func() bool {
		for _, pi := range b.discovery.Remembered() {
			if pi.ID == c.Host().ID() {
				return true
			}
		}
		return false
	})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	b2 := newTestNode(t, cfg)
	waitFor(t, "restarted B to reconnect to C", 20*time.Second, func() bool {
		return b2.Host().Network().Connectedness(c.Host().ID()) == network.Connected
	})
}
