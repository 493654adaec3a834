package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestFormatRoutingTables(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tables := []client.RoutingTable{
		{Name: "lan", Buckets: [][]client.RoutingPeer{
			{},
			{{ID: shelltest.PeerID(1), Connected: true, AgentVersion: "cairn/0.1.0", LastUsefulAt: now.Add(-90 * time.Second)}},
		}},
		{Name: "wan"},
	}
	got := formatRoutingTables(tables, now)
	want := "lan: 1 peers in 2 buckets\n" +
		"  bucket 1: 1 peers\n" +
		"    " + shelltest.PeerID(1).String() + "  connected  last useful 1m30s ago  cairn/0.1.0\n" +
		"wan: 0 peers in 0 buckets\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(ago(time.Time{}, now), "never") {
		t.Fatal("a zero time should read never")
	}
}
