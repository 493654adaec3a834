package shell_test

import (
	"maps"
	"net/http"
	"slices"
	"testing"

	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestPinAddLsRm(t *testing.T) {
	srv, b := fakeShell(t)
	rec, dir := b.AddBlock([]byte("recursive")), b.AddBlock([]byte("direct"))

	if r := post(t, srv, "/api/v0/pin/add?arg="+rec.String()); string(r.body) != `{"Pins":["`+rec.String()+`"]}`+"\n" {
		t.Fatalf("pin/add = %d %q", r.status, r.body)
	}
	if r := post(t, srv, "/api/v0/pin/add?recursive=false&arg="+dir.String()); r.status != http.StatusOK {
		t.Fatalf("pin/add direct = %d %q", r.status, r.body)
	}

	// encoding/json sorts map keys, so the listing's order is known.
	both := map[string]string{rec.String(): "recursive", dir.String(): "direct"}
	keys := slices.Sorted(maps.Keys(both))
	all := `{"Keys":{"` + keys[0] + `":{"Type":"` + both[keys[0]] + `"},"` + keys[1] + `":{"Type":"` + both[keys[1]] + `"}}}`
	tests := []struct{ query, want string }{
		{"", all},
		{"?type=recursive", `{"Keys":{"` + rec.String() + `":{"Type":"recursive"}}}`},
		{"?type=direct", `{"Keys":{"` + dir.String() + `":{"Type":"direct"}}}`},
		{"?type=all&arg=" + dir.String(), `{"Keys":{"` + dir.String() + `":{"Type":"direct"}}}`},
	}
	for _, tt := range tests {
		if r := post(t, srv, "/api/v0/pin/ls"+tt.query); string(r.body) != tt.want+"\n" {
			t.Errorf("pin/ls%s = %q, want %q", tt.query, r.body, tt.want)
		}
	}
	stream := jsonLines[struct{ Cid, Type string }](t, post(t, srv, "/api/v0/pin/ls?stream=true&type=recursive").body)
	if len(stream) != 1 || stream[0].Cid != rec.String() || stream[0].Type != "recursive" {
		t.Errorf("pin/ls stream = %+v", stream)
	}

	if r := post(t, srv, "/api/v0/pin/rm?recursive=false&arg="+rec.String()); r.status != http.StatusBadRequest {
		t.Errorf("pin/rm recursive=false of a recursive pin = %d %q, want 400", r.status, r.body)
	}
	if r := post(t, srv, "/api/v0/pin/rm?arg="+rec.String()); string(r.body) != `{"Pins":["`+rec.String()+`"]}`+"\n" {
		t.Fatalf("pin/rm = %d %q", r.status, r.body)
	}
	wantError(t, post(t, srv, "/api/v0/pin/ls?arg="+rec.String()), http.StatusInternalServerError, "is not pinned")
	wantError(t, post(t, srv, "/api/v0/pin/ls?type=sideways"), http.StatusBadRequest, `invalid type "sideways"`)
}

func TestPinAddNotFoundWithinTimeout(t *testing.T) {
	srv, _ := fakeShell(t)
	c := shelltest.RawCid([]byte("nobody has this")).String()
	wantError(t, post(t, srv, "/api/v0/pin/add?timeout=20ms&arg="+c), http.StatusGatewayTimeout, "content "+c+" not found within 20ms")
}
