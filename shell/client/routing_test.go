package client_test

import (
	"context"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestReachabilityAddrsAndRoutingTables(t *testing.T) {
	b := shelltest.New()
	b.Self.Reachability = "private"
	b.PeerList = []shell.PeerInfo{{ID: shelltest.PeerID(1), Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: "inbound"}}
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()

	id, err := c.ID(ctx)
	if err != nil || id.Reachability != "private" {
		t.Fatalf("ID = %+v, %v; want reachability private", id, err)
	}
	known, err := c.KnownAddrs(ctx)
	if err != nil || len(known) != 1 || len(known[shelltest.PeerID(1)]) != 1 {
		t.Fatalf("KnownAddrs = %v, %v", known, err)
	}
	tables, err := c.RoutingTables(ctx)
	if err != nil || len(tables) != 2 || tables[0].Name != "lan" {
		t.Fatalf("RoutingTables = %+v, %v", tables, err)
	}
	p := tables[0].Buckets[0][0]
	if p.ID != shelltest.PeerID(1) || !p.Connected || !p.LastUsefulAt.Equal(shelltest.FakeUsefulAt) || !p.LastQueriedAt.IsZero() {
		t.Fatalf("routing peer %+v", p)
	}
	if only, err := c.RoutingTables(ctx, "wan"); err != nil || len(only) != 1 || only[0].Name != "wan" {
		t.Fatalf("RoutingTables(wan) = %+v, %v", only, err)
	}
}
