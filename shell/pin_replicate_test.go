package shell_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/shelltest"
	"github.com/ipfs/go-cid"
)

// replBackend adds replication to the fake backend, recording the calls.
type replBackend struct {
	*shelltest.Backend
	def          int
	replicated   map[cid.Cid]int
	unreplicated []cid.Cid
}

func (b *replBackend) DefaultReplication() int { return b.def }

func (b *replBackend) Replicate(_ context.Context, c cid.Cid, n int) (shell.Replication, error) {
	b.replicated[c] = n
	return shell.Replication{Cid: c.String(), Factor: n, Live: 1, Refusals: []shell.ReplicationRefusal{{Peer: "p", Reason: "full"}}}, nil
}

func (b *replBackend) Unreplicate(_ context.Context, c cid.Cid) error {
	b.unreplicated = append(b.unreplicated, c)
	return nil
}

func (b *replBackend) Replication(_ context.Context, c cid.Cid) (shell.Replication, error) {
	return shell.Replication{Cid: c.String(), Factor: b.replicated[c], Live: 2}, nil
}

func TestPinReplicate(t *testing.T) {
	b := &replBackend{Backend: shelltest.New(), def: 2, replicated: make(map[cid.Cid]int)}
	srv := newShell(t, shell.Config{}, b)
	c := b.AddBlock([]byte("replicated"))
	arg := "arg=" + c.String()

	r := post(t, srv, "/api/v0/pin/add?replicate=3&"+arg)
	var out struct {
		Pins        []string
		Replication []shell.Replication
	}
	if err := json.Unmarshal(r.body, &out); err != nil || len(out.Replication) != 1 || out.Replication[0].Refusals[0].Reason != "full" {
		t.Fatalf("pin/add?replicate=3 = %d %q", r.status, r.body)
	}
	for _, tc := range []struct {
		query string
		want  int
	}{{"", 2}, {"replicate=1&", 0}, {"replicate=0&", 0}, {"replicate=5&", 5}} {
		clear(b.replicated)
		post(t, srv, "/api/v0/pin/add?"+tc.query+arg)
		if b.replicated[c] != tc.want {
			t.Errorf("pin/add?%s replicated with %d, want %d", tc.query, b.replicated[c], tc.want)
		}
	}
	wantError(t, post(t, srv, "/api/v0/pin/add?replicate=-1&"+arg), http.StatusBadRequest, "negative")
	wantError(t, post(t, srv, "/api/v0/pin/add?replicate=2&recursive=false&"+arg), http.StatusBadRequest, "recursive")

	if r := post(t, srv, "/api/v0/pin/status?"+arg); r.status != http.StatusOK {
		t.Fatalf("pin/status = %d %q", r.status, r.body)
	} else if err := json.Unmarshal(r.body, &out.Replication); err == nil {
		t.Fatalf("pin/status should answer one object: %q", r.body)
	}
	if r := post(t, srv, "/api/v0/pin/rm?replicate&"+arg); r.status != http.StatusOK || len(b.unreplicated) != 1 {
		t.Fatalf("pin/rm?replicate = %d %q, released %v", r.status, r.body, b.unreplicated)
	}
}

// A node without replication says so rather than pinning one copy.
func TestPinReplicateUnsupported(t *testing.T) {
	srv, b := fakeShell(t)
	arg := "arg=" + b.AddBlock([]byte("x")).String()
	wantError(t, post(t, srv, "/api/v0/pin/add?replicate=3&"+arg), http.StatusBadRequest, "does not replicate")
	if r := post(t, srv, "/api/v0/pin/add?"+arg); r.status != http.StatusOK {
		t.Fatalf("pin/add = %d %q", r.status, r.body)
	}
	wantError(t, post(t, srv, "/api/v0/pin/status?"+arg), http.StatusNotFound, "does not replicate")
}
