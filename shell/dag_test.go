package shell_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestDAGImportExport(t *testing.T) {
	srv, b := fakeShell(t)
	car := []byte("a CAR's bytes")
	body, ctype := multipartBody(t, namedFile{name: "x.car", data: car})
	r := do(t, newPost(t, srv, "/api/v0/dag/import?stats=true", body, ctype))
	root := shelltest.RawCid(car).String()
	want := `{"Root":{"Cid":{"/":"` + root + `"},"PinErrorMsg":""}}` + "\n" +
		`{"Stats":{"BlockCount":1,"BlockBytesCount":13}}` + "\n"
	if string(r.body) != want {
		t.Fatalf("dag/import = %d %q, want %q", r.status, r.body, want)
	}
	if pins := post(t, srv, "/api/v0/pin/ls?arg="+root); pins.status != http.StatusOK {
		t.Fatalf("imported root not pinned: %q", pins.body)
	}
	if !b.HasBlock(shelltest.RawCid(car)) {
		t.Fatal("import stored nothing")
	}

	exp := post(t, srv, "/api/v0/dag/export?arg="+root)
	if !bytes.Equal(exp.body, car) || exp.header.Get("X-Stream-Output") != "1" {
		t.Fatalf("dag/export = %q (headers %v)", exp.body, exp.header)
	}
}

func TestDAGImportRefusesBadCAR(t *testing.T) {
	srv, _ := fakeShell(t)
	body, ctype := multipartBody(t, namedFile{name: "x.car", data: []byte("bad CAR")})
	wantError(t, do(t, newPost(t, srv, "/api/v0/dag/import", body, ctype)), http.StatusInternalServerError, "hash mismatch")
}

func TestDAGExportNotFoundWithinTimeout(t *testing.T) {
	srv, _ := fakeShell(t)
	c := shelltest.RawCid([]byte("nobody has this")).String()
	wantError(t, post(t, srv, "/api/v0/dag/export?timeout=20ms&arg="+c), http.StatusGatewayTimeout, "content "+c+" not found within 20ms")
}
