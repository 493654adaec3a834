package shell_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestConfigCommands(t *testing.T) {
	a := shelltest.NewAdmin()
	srv := newShell(t, shell.Config{}, a)

	r := post(t, srv, "/api/v0/config?arg=discovery.mdns")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"Key":"discovery.mdns","Value":true}` {
		t.Fatalf("config get: %d %s", r.status, r.body)
	}
	r = post(t, srv, "/api/v0/config?arg=discovery.mdns&arg=false&bool=true")
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"Key":"discovery.mdns","Value":false}` {
		t.Fatalf("config set: %d %s", r.status, r.body)
	}
	if v, _ := a.ConfigValues(t.Context()); v["discovery"].(map[string]any)["mdns"] != false {
		t.Fatalf("config set did not reach the backend: %v", v)
	}
	wantError(t, post(t, srv, "/api/v0/config?arg=discovery.mdns&arg=maybe&bool=true"), http.StatusBadRequest, "true or false")
	wantError(t, post(t, srv, "/api/v0/config?arg=nosuch.key"), http.StatusBadRequest, `unknown key "nosuch.key"`)
	wantError(t, post(t, srv, "/api/v0/config"), http.StatusBadRequest, "config takes a key")

	// The access token is neither shown nor changed through the API.
	for _, path := range []string{"/api/v0/config?arg=shell.access_token", "/api/v0/config?arg=shell", "/api/v0/config?arg=shell.access_token&arg=x"} {
		wantError(t, post(t, srv, path), http.StatusForbidden, "shell.access_token")
	}
	r = post(t, srv, "/api/v0/config/show")
	var all map[string]map[string]any
	if err := json.Unmarshal(r.body, &all); err != nil || r.status != http.StatusOK {
		t.Fatalf("config show: %d %s", r.status, r.body)
	}
	if _, ok := all["shell"]["access_token"]; ok || all["shell"]["address"] != "127.0.0.1:5201" {
		t.Fatalf("config show: shell section %v, want the address and no token", all["shell"])
	}

	r = post(t, srv, "/api/v0/config/profile/apply?arg=server&dry-run=true")
	var applied struct{ OldCfg, NewCfg map[string]map[string]any }
	if err := json.Unmarshal(r.body, &applied); err != nil || applied.OldCfg["discovery"]["mdns"] != false || applied.NewCfg["discovery"]["mdns"] != false {
		t.Fatalf("config/profile/apply: %d %s", r.status, r.body)
	}
}

func TestBootstrapCommands(t *testing.T) {
	a := shelltest.NewAdmin()
	srv := newShell(t, shell.Config{}, a)
	p1 := "/ip4/192.0.2.1/tcp/4201/p2p/" + shelltest.PeerID(1).String()
	p2 := "/ip4/192.0.2.2/tcp/4201/p2p/" + shelltest.PeerID(2).String()
	peersOf := func(r result) []string {
		t.Helper()
		var out struct{ Peers []string }
		if err := json.Unmarshal(r.body, &out); err != nil || r.status != http.StatusOK || out.Peers == nil {
			t.Fatalf("%d %s: want {\"Peers\": [...]}", r.status, r.body)
		}
		return out.Peers
	}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap/list")); len(got) != 0 {
		t.Fatalf("list: %v", got)
	}
	q := url.Values{"arg": {p1, p2}}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap/add?"+q.Encode())); len(got) != 2 {
		t.Fatalf("add: %v", got)
	}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap/add?"+q.Encode())); len(got) != 0 {
		t.Fatalf("adding again added %v", got)
	}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap?"+q.Encode())); len(got) != 2 {
		t.Fatalf("bootstrap (list): %v", got)
	}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap/rm?arg="+url.QueryEscape(p1))); len(got) != 1 || got[0] != p1 {
		t.Fatalf("rm: %v", got)
	}
	if got := peersOf(post(t, srv, "/api/v0/bootstrap/rm/all")); len(got) != 1 || got[0] != p2 {
		t.Fatalf("rm/all: %v", got)
	}
	wantError(t, post(t, srv, "/api/v0/bootstrap/add?arg=/ip4/192.0.2.1/tcp/1"), http.StatusBadRequest, "/p2p/")
}

func TestShutdownAnswersThenStops(t *testing.T) {
	a := shelltest.NewAdmin()
	srv := newShell(t, shell.Config{}, a)
	if r := post(t, srv, "/api/v0/shutdown"); r.status != http.StatusOK {
		t.Fatalf("shutdown: %d %s", r.status, r.body)
	}
	select {
	case <-a.Stopped:
	default:
		t.Fatal("the backend was not asked to stop")
	}
}

func TestSwarmDisconnectAndFindPeer(t *testing.T) {
	a := shelltest.NewAdmin()
	srv := newShell(t, shell.Config{}, a)
	p1 := shelltest.PeerID(1)
	a.PeerList = []shell.PeerInfo{{ID: p1}}
	addr := "/ip4/192.0.2.1/tcp/4201/p2p/" + p1.String()

	r := post(t, srv, "/api/v0/swarm/disconnect?arg="+url.QueryEscape(addr))
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != `{"Strings":["disconnect `+p1.String()+` success"]}` {
		t.Fatalf("disconnect: %d %s", r.status, r.body)
	}
	other := "/ip4/192.0.2.2/tcp/4201/p2p/" + shelltest.PeerID(2).String()
	wantError(t, post(t, srv, "/api/v0/swarm/disconnect?arg="+url.QueryEscape(other)), http.StatusInternalServerError, "not connected")

	a.Known[p1] = shelltest.AddrInfo(p1, "/ip4/192.0.2.1/tcp/4201")
	r = post(t, srv, "/api/v0/routing/findpeer?arg="+p1.String())
	events := jsonLines[struct {
		Type      int
		Responses []struct {
			ID    string
			Addrs []string
		}
	}](t, r.body)
	if len(events) != 1 || events[0].Type != 2 || events[0].Responses[0].ID != p1.String() || events[0].Responses[0].Addrs[0] != "/ip4/192.0.2.1/tcp/4201" {
		t.Fatalf("findpeer: %d %s", r.status, r.body)
	}
	wantError(t, post(t, srv, "/api/v0/routing/findpeer?arg=nope"), http.StatusBadRequest, "invalid peer ID")
	wantError(t, post(t, srv, "/api/v0/dht/findpeer?arg="+shelltest.PeerID(3).String()+"&timeout=50ms"), http.StatusGatewayTimeout, "not found within 50ms")
}

func TestProvideBlockRmPinVerify(t *testing.T) {
	a := shelltest.NewAdmin()
	srv := newShell(t, shell.Config{}, a)
	kept, loose := a.AddBlock([]byte("kept")), a.AddBlock([]byte("loose"))
	absent := shelltest.RawCid([]byte("absent"))
	if err := a.Pin(t.Context(), kept, true); err != nil {
		t.Fatal(err)
	}

	if r := post(t, srv, "/api/v0/routing/provide?arg="+kept.String()); r.status != http.StatusOK || len(a.Provided) != 1 {
		t.Fatalf("provide: %d %s, provided %v", r.status, r.body, a.Provided)
	}
	wantError(t, post(t, srv, "/api/v0/routing/provide?arg="+absent.String()), http.StatusInternalServerError, "not found locally")

	q := url.Values{"arg": {kept.String(), loose.String(), absent.String()}}
	lines := jsonLines[struct{ Hash, Error string }](t, post(t, srv, "/api/v0/block/rm?"+q.Encode()).body)
	if len(lines) != 3 || lines[0].Error != "pinned: recursive" || lines[1].Error != "" || !strings.Contains(lines[2].Error, "could not find") {
		t.Fatalf("block rm: %+v", lines)
	}
	if a.HasBlock(loose) || !a.HasBlock(kept) {
		t.Fatal("block rm removed the wrong blocks")
	}
	if body := post(t, srv, "/api/v0/block/rm?force=true&arg="+absent.String()).body; len(body) != 0 {
		t.Fatalf("block rm --force of an absent block printed %s", body)
	}

	a.Checks = []shell.PinCheck{{Cid: kept}, {Cid: loose, Bad: []shell.BadBlock{{Cid: absent, Err: "block was not found locally"}}}}
	res := jsonLines[struct {
		Cid      string
		Ok       bool
		BadNodes []struct{ Cid, Err string }
	}](t, post(t, srv, "/api/v0/pin/verify").body)
	if len(res) != 1 || res[0].Cid != loose.String() || res[0].Ok || res[0].BadNodes[0].Cid != absent.String() {
		t.Fatalf("pin verify: %+v", res)
	}
	if res := jsonLines[struct{ Ok bool }](t, post(t, srv, "/api/v0/pin/verify?verbose=true").body); len(res) != 2 || !res[0].Ok {
		t.Fatalf("pin verify --verbose: %+v", res)
	}
}
