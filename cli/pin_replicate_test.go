package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
)

func TestPinStatusLines(t *testing.T) {
	proved := time.Date(2026, 12, 3, 12, 0, 0, 0, time.Local)
	r := shell.Replication{
		Cid: "bafy", Factor: 3, Live: 2, Origin: "A",
		Holders: []shell.ReplicationHolder{
			{Peer: "A", Live: true, LastProved: &proved},
			{Peer: "B", Error: "does not hold it"},
		},
		Refusals: []shell.ReplicationRefusal{{Peer: "C", Reason: "full"}},
	}
	var out bytes.Buffer
	if err := printPinStatus(&out, r); err != nil {
		t.Fatal(err)
	}
	want := "bafy 2/3 live copies (pinned here)\n" +
		"  A live, proved 2026-12-03 12:00:00\n" +
		"  B not live, never proved: does not hold it\n" +
		"  refused by C: full\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	for _, tc := range []struct {
		p    client.Pin
		want string
	}{{client.Pin{}, ""}, {client.Pin{Replication: 3}, " replicated x3"}, {client.Pin{Replica: true}, " replica"}} {
		if got := replicaMark(tc.p); got != tc.want {
			t.Errorf("replicaMark(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
