package shell_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func peersShell(t *testing.T) *shelltest.Backend {
	b := shelltest.New()
	b.PeerList = []shell.PeerInfo{
		{ID: shelltest.PeerID(2), Addr: ma.StringCast("/ip4/10.0.0.2/tcp/4001"), Direction: "outbound", Streams: []string{"/ipfs/kad/1.0.0", "/ipfs/bitswap/1.2.0"}},
		{ID: shelltest.PeerID(1), Addr: ma.StringCast("/ip4/10.0.0.1/tcp/4001"), Direction: "inbound", Latency: 15 * time.Millisecond},
	}
	return b
}

func TestSwarmPeers(t *testing.T) {
	p1, p2 := shelltest.PeerID(1).String(), shelltest.PeerID(2).String()
	// Sorted by Addr; optional fields only when asked for, as Kubo does.
	tests := []struct {
		query, want string
	}{
		{"", `{"Peers":[{"Addr":"/ip4/10.0.0.1/tcp/4001","Peer":"` + p1 + `"},{"Addr":"/ip4/10.0.0.2/tcp/4001","Peer":"` + p2 + `"}]}`},
		{"?latency=true&direction=true",
			`{"Peers":[{"Addr":"/ip4/10.0.0.1/tcp/4001","Peer":"` + p1 + `","Latency":"15ms","Direction":1},` +
				`{"Addr":"/ip4/10.0.0.2/tcp/4001","Peer":"` + p2 + `","Latency":"n/a","Direction":2}]}`},
		{"?verbose=true",
			`{"Peers":[{"Addr":"/ip4/10.0.0.1/tcp/4001","Peer":"` + p1 + `","Latency":"15ms","Direction":1},` +
				`{"Addr":"/ip4/10.0.0.2/tcp/4001","Peer":"` + p2 + `","Latency":"n/a","Direction":2,` +
				`"Streams":[{"Protocol":"/ipfs/bitswap/1.2.0"},{"Protocol":"/ipfs/kad/1.0.0"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			srv := newShell(t, shell.Config{}, peersShell(t))
			r := post(t, srv, "/api/v0/swarm/peers"+tt.query)
			if string(r.body) != tt.want+"\n" {
				t.Fatalf("body =\n%s\nwant\n%s", r.body, tt.want)
			}
		})
	}
}

func TestSwarmConnect(t *testing.T) {
	srv, b := fakeShell(t)
	p1, p2 := shelltest.PeerID(1).String(), shelltest.PeerID(2).String()
	q := url.Values{"arg": {"/ip4/10.0.0.1/tcp/4001/p2p/" + p1, "/dns4/example.org/tcp/4001/p2p/" + p2}}

	r := post(t, srv, "/api/v0/swarm/connect?"+q.Encode())

	want := `{"Strings":["connect ` + p1 + ` success","connect ` + p2 + ` success"]}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body = %q, want %q", r.body, want)
	}
	if got := b.Connected(); len(got) != 2 {
		t.Fatalf("backend dialled %v, want both addresses", got)
	}
}

func TestSwarmConnectRejects(t *testing.T) {
	good := "/ip4/10.0.0.1/tcp/4001/p2p/" + shelltest.PeerID(1).String()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad multiaddr", []string{good, "/ip4/999.1.1.1/tcp/1"}, `invalid multiaddr "/ip4/999.1.1.1/tcp/1"`},
		{"not a multiaddr", []string{"10.0.0.1:4001"}, `invalid multiaddr "10.0.0.1:4001"`},
		{"no peer id", []string{"/ip4/10.0.0.1/tcp/4001"}, `has no /p2p/<peer-id> part`},
		{"no arg", nil, `argument "arg" is required`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, b := fakeShell(t)
			r := post(t, srv, "/api/v0/swarm/connect?"+url.Values{"arg": tt.args}.Encode())
			wantError(t, r, http.StatusBadRequest, tt.want)
			if len(b.Connected()) != 0 {
				t.Fatal("dialled before every address was checked")
			}
		})
	}
}

func TestSwarmConnectFailure(t *testing.T) {
	b := shelltest.New()
	b.ConnectErr = errors.New("dial refused")
	srv := newShell(t, shell.Config{}, b)
	id := shelltest.PeerID(1).String()

	r := post(t, srv, "/api/v0/swarm/connect?arg=/ip4/10.0.0.1/tcp/4001/p2p/"+id)

	wantError(t, r, http.StatusInternalServerError, "connect "+id+" failure: dial refused")
}
