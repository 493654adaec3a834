package shell_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/go-cid"
)

// TestStatsBitswap: both of Kubo's paths send boxo's bitswap.Stat as
// Kubo encodes it: the same field names and types, CIDs as {"/": ...},
// and nothing else, so that a Kubo client decodes it whole.
func TestStatsBitswap(t *testing.T) {
	want := shelltest.RawCid([]byte("wanted"))
	srv, b := fakeShell(t)
	b.Bitswap = shell.BitswapStats{
		Wantlist:         []cid.Cid{want},
		Peers:            []string{shelltest.PeerID(1).String()},
		BlocksReceived:   40,
		DataReceived:     10 << 20,
		MessagesReceived: 12,
		BlocksSent:       3,
		DataSent:         3 << 18,
	}
	for _, path := range []string{"/api/v0/stats/bitswap", "/api/v0/bitswap/stat"} {
		t.Run(path, func(t *testing.T) {
			r := post(t, srv, path)
			wantStatus(t, r, http.StatusOK)
			var got bitswap.Stat
			dec := json.NewDecoder(bytes.NewReader(r.body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("body %s does not decode as Kubo's bitswap.Stat: %v", r.body, err)
			}
			wantStat := bitswap.Stat{
				Wantlist: []cid.Cid{want}, Peers: []string{shelltest.PeerID(1).String()},
				BlocksReceived: 40, DataReceived: 10 << 20, MessagesReceived: 12, BlocksSent: 3, DataSent: 3 << 18,
			}
			if !reflect.DeepEqual(got, wantStat) {
				t.Fatalf("got %+v, want %+v", got, wantStat)
			}
			var raw map[string]any
			if err := json.Unmarshal(r.body, &raw); err != nil {
				t.Fatal(err)
			}
			wl := raw["Wantlist"].([]any)
			if link, _ := wl[0].(map[string]any); link["/"] != want.String() {
				t.Fatalf("Wantlist[0] = %v, want {\"/\": %q}", wl[0], want)
			}
			for _, k := range []string{"DupBlksReceived", "DupDataReceived"} {
				if raw[k] != float64(0) {
					t.Errorf("%s = %v, want 0", k, raw[k])
				}
			}
		})
	}
}

// TestStatsBitswapIdle: an idle node sends empty lists, not null.
func TestStatsBitswapIdle(t *testing.T) {
	srv, _ := fakeShell(t)
	r := post(t, srv, "/api/v0/stats/bitswap")
	wantStatus(t, r, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Wantlist", "Peers"} {
		if l, ok := got[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %v, want []", k, got[k])
		}
	}
}

func TestStatsBitswapErrors(t *testing.T) {
	t.Run("offline", func(t *testing.T) {
		srv, b := fakeShell(t)
		b.BitswapErr = fmt.Errorf("bitswap stats: %w", shell.ErrOffline)
		wantError(t, post(t, srv, "/api/v0/stats/bitswap"), http.StatusBadRequest,
			"stats/bitswap: unable to run offline: bitswap stats: this command must be run in online mode")
	})
	t.Run("backend fails", func(t *testing.T) {
		srv, b := fakeShell(t)
		b.BitswapErr = errors.New("bitswap gone")
		wantError(t, post(t, srv, "/api/v0/stats/bitswap"), http.StatusInternalServerError, "stats/bitswap: bitswap gone")
	})
	t.Run("GET refused", func(t *testing.T) {
		srv, _ := fakeShell(t)
		wantStatus(t, do(t, mustRequest(t, http.MethodGet, srv.URL+"/api/v0/stats/bitswap")), http.StatusMethodNotAllowed)
	})
}

// TestStatsFastPath: the fast path's counters, by name, as integers.
func TestStatsFastPath(t *testing.T) {
	srv, b := fakeShell(t)
	b.FastPath = shell.FastPathStats{
		Fetches: 3, FilesFetched: 2, FellBack: 1, BlocksReceived: 50,
		BytesReceived: 12 << 20, PeersDropped: 1, BytesServed: 4 << 20,
	}
	r := post(t, srv, "/api/v0/stats/fastpath")
	wantStatus(t, r, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	want := map[string]any{
		"Fetches":        float64(3),
		"FilesFetched":   float64(2),
		"FellBack":       float64(1),
		"BlocksReceived": float64(50),
		"BytesReceived":  float64(12 << 20),
		"PeersDropped":   float64(1),
		"BytesServed":    float64(4 << 20),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %s, want the fields %v", r.body, want)
	}
}
