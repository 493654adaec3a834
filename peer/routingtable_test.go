package peer

import (
	"context"
	"testing"
	"time"
)

// The shell's view of a real node: its routing tables hold the peer it
// joined through, the peer store knows that peer's addresses, and the
// identity says how reachable it is.
func TestBackendReportsRoutingTablesAddrsAndReachability(t *testing.T) {
	a := newTestNode(t, testConfig())
	cfg := testConfig(a)
	cfg.Reachability.Force = ForcePrivate
	b := newTestNode(t, cfg)
	waitFor(t, "B's LAN table to hold A", 20*time.Second, func() bool {
		lan, _ := b.Routing().Peers()
		return lan > 0
	})
	be := &backend{n: b}
	ctx := context.Background()
	tables, err := be.RoutingTables(ctx)
	if err != nil || len(tables) != 2 || tables[0].Name != "lan" || tables[1].Name != "wan" {
		t.Fatalf("RoutingTables = %+v, %v", tables, err)
	}
	found := false
	for _, bucket := range tables[0].Buckets {
		for _, p := range bucket {
			if p.ID == a.Host().ID() {
				found = true
				if !p.Connected || p.AddedAt.IsZero() || p.AgentVersion != AgentVersion {
					t.Errorf("A in B's table: %+v", p)
				}
			}
		}
	}
	if !found {
		t.Fatalf("A is not in B's LAN table: %+v", tables[0])
	}
	known, err := be.KnownAddrs(ctx)
	if err != nil || len(known[a.Host().ID()]) == 0 {
		t.Fatalf("KnownAddrs has no address for A: %v, %v", known, err)
	}
	if _, self := known[b.Host().ID()]; self {
		t.Error("KnownAddrs lists the node itself")
	}
	// Latency is measured by the first exchanges (identify, DHT), not at
	// connection time: poll for it.
	waitFor(t, "swarm/peers to report A outbound with a latency", 10*time.Second, func() bool {
		peers, err := be.Peers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range peers {
			if p.ID == a.Host().ID() && p.Direction == "outbound" && p.Latency > 0 {
				return true
			}
		}
		return false
	})
	id, err := be.Identity(ctx)
	if err != nil || id.Reachability != "private" {
		t.Fatalf("Identity reachability = %q, %v; want private", id.Reachability, err)
	}
}
