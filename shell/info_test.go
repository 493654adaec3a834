package shell_test

import (
	"net/http"
	"runtime"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestID(t *testing.T) {
	srv, b := fakeShell(t)
	id, pub := shelltest.PeerKey(0)

	r := post(t, srv, "/api/v0/id")

	// Addresses carry /p2p/<id> and are sorted, as are protocols.
	want := `{"ID":"` + id.String() + `","PublicKey":"` + pub + `","Addresses":[` +
		`"/ip4/10.0.0.1/udp/4001/quic-v1/p2p/` + id.String() + `","/ip4/127.0.0.1/tcp/4001/p2p/` + id.String() + `"],` +
		`"AgentVersion":"cairn/test","Protocols":["/ipfs/bitswap/1.2.0","/ipfs/kad/1.0.0"]}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body =\n%s\nwant\n%s", r.body, want)
	}
	if r2 := post(t, srv, "/api/v0/id?arg="+b.Self.ID.String()); r2.status != http.StatusOK {
		t.Fatalf("id of self: status %d", r2.status)
	}
	wantError(t, post(t, srv, "/api/v0/id?arg="+shelltest.PeerID(5).String()), http.StatusBadRequest, "not supported yet")
	wantError(t, post(t, srv, "/api/v0/id?arg=bogus"), http.StatusBadRequest, `invalid peer ID "bogus"`)
}

func TestVersion(t *testing.T) {
	b := shelltest.New()
	srv := newShell(t, shell.Config{Version: "0.1.0", Commit: "abc123", RepoVersion: "1"}, b)

	r := post(t, srv, "/api/v0/version")

	want := `{"Version":"0.1.0","Commit":"abc123","Repo":"1","System":"` + runtime.GOARCH + "/" + runtime.GOOS +
		`","Golang":"` + runtime.Version() + `"}` + "\n"
	if string(r.body) != want {
		t.Fatalf("body = %s, want %s", r.body, want)
	}
}

func TestFindProvsStreamsKuboRoutingEvents(t *testing.T) {
	b := shelltest.New()
	c := b.AddFile([]byte("popular"))
	p1, p2 := shelltest.PeerID(1), shelltest.PeerID(2)
	b.Providers[c] = []peer.AddrInfo{{ID: p1, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/10.0.0.1/tcp/4001")}}, {ID: p2}}
	srv := newShell(t, shell.Config{}, b)

	want := `{"Extra":"","ID":"","Responses":[{"ID":"` + p1.String() + `","Addrs":["/ip4/10.0.0.1/tcp/4001"]}],"Type":4}` + "\n" +
		`{"Extra":"","ID":"","Responses":[{"ID":"` + p2.String() + `","Addrs":[]}],"Type":4}` + "\n"
	// Kubo's CLI now says routing/findprovs; older clients dht/findprovs.
	for _, cmd := range []string{"dht/findprovs", "routing/findprovs"} {
		// With num-providers met, the search ends without waiting on the DHT.
		r := post(t, srv, "/api/v0/"+cmd+"?arg="+c.String()+"&num-providers=2")

		if r.status != http.StatusOK || r.header.Get("X-Chunked-Output") != "1" {
			t.Fatalf("%s: status %d, headers %v", cmd, r.status, r.header)
		}
		if string(r.body) != want {
			t.Fatalf("%s: body =\n%s\nwant\n%s", cmd, r.body, want)
		}
	}
}

func TestFindProvsTimeout(t *testing.T) {
	b := shelltest.New()
	c := b.AddFile([]byte("popular"))
	lonely := b.AddFile([]byte("lonely"))
	b.Providers[c] = []peer.AddrInfo{{ID: shelltest.PeerID(1)}}
	srv := newShell(t, shell.Config{}, b)

	// Some found before the timeout: the timeout just ends the search.
	r := post(t, srv, "/api/v0/dht/findprovs?arg="+c.String()+"&timeout=30ms")
	if r.status != http.StatusOK || len(jsonLines[map[string]any](t, r.body)) != 1 {
		t.Fatalf("got %d %q, want 200 with one provider", r.status, r.body)
	}
	// None found: say so, naming the timeout.
	r = post(t, srv, "/api/v0/dht/findprovs?arg="+lonely.String()+"&timeout=30ms")
	wantError(t, r, http.StatusGatewayTimeout, "no providers of "+lonely.String()+" found within 30ms")
}

func TestFindProvsRejectsBadCount(t *testing.T) {
	srv, b := fakeShell(t)
	c := b.AddFile([]byte("x")).String()
	wantError(t, post(t, srv, "/api/v0/dht/findprovs?arg="+c+"&num-providers=0"), http.StatusBadRequest, "num-providers must be greater than 0")
}
