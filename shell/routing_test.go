package shell_test

import (
	"net/http"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestSwarmAddrsIsKubosShape(t *testing.T) {
	b := peersShell(t)
	srv := newShell(t, shell.Config{}, b)
	r := post(t, srv, "/api/v0/swarm/addrs")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	p1, p2 := shelltest.PeerID(1).String(), shelltest.PeerID(2).String()
	want := `{"Addrs":{"` + p1 + `":["/ip4/10.0.0.1/tcp/4001"],"` + p2 + `":["/ip4/10.0.0.2/tcp/4001"]}}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body %s\nwant %s", r.body, want)
	}
}

func TestSwarmAddrsLocal(t *testing.T) {
	srv, b := fakeShell(t)
	id := b.Self.ID.String()
	r := post(t, srv, "/api/v0/swarm/addrs/local?id=true")
	want := `{"Strings":["/ip4/10.0.0.1/udp/4001/quic-v1/p2p/` + id + `","/ip4/127.0.0.1/tcp/4001/p2p/` + id + `"]}` + "\n"
	if r.status != http.StatusOK || string(r.body) != want {
		t.Fatalf("status %d, body %s\nwant %s", r.status, r.body, want)
	}
}

// stats/dht streams one object per table, in Kubo's shape, with each
// peer's last useful time.
func TestStatsDHT(t *testing.T) {
	b := peersShell(t)
	srv := newShell(t, shell.Config{}, b)
	r := post(t, srv, "/api/v0/stats/dht")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	type peerInfo struct {
		ID           string
		Connected    bool
		LastUsefulAt string
	}
	type table struct {
		Name    string
		Buckets []struct{ Peers []peerInfo }
	}
	tables := jsonLines[table](t, r.body)
	if len(tables) != 2 || tables[0].Name != "lan" || tables[1].Name != "wan" {
		t.Fatalf("tables %+v, want lan then wan", tables)
	}
	lan := tables[0]
	if len(lan.Buckets) != 1 || len(lan.Buckets[0].Peers) != 2 {
		t.Fatalf("lan table %+v, want one bucket of two peers", lan)
	}
	if p := lan.Buckets[0].Peers[0]; !p.Connected || p.LastUsefulAt != "2026-01-02T03:04:05Z" {
		t.Fatalf("peer %+v lacks its connection state or last useful time", p)
	}

	r = post(t, srv, "/api/v0/stats/dht?arg=wan")
	if got := jsonLines[table](t, r.body); len(got) != 1 || got[0].Name != "wan" {
		t.Fatalf("arg=wan gave %+v", got)
	}
	wantError(t, post(t, srv, "/api/v0/stats/dht?arg=moon"), http.StatusBadRequest, "unknown routing table")
}
