package trustless

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/path"
)

// TestBackendCARReadAndWriteTo: the backend's CAR is the same whether the
// handler copies it (WriteTo) or something reads it, and equals boxo's.
func TestBackendCARReadAndWriteTo(t *testing.T) {
	f := newFixture()
	data := bytes.Repeat([]byte("cairn "), 5000)
	root := f.file(t, data, true, false)
	b, err := NewBackend(f.bs)
	if err != nil {
		t.Fatal(err)
	}
	params := gateway.CarParams{Scope: gateway.DagScopeAll}
	want := f.boxoCAR(t, root, params)

	_, rc, err := b.GetCAR(context.Background(), path.FromCid(root), params)
	if err != nil {
		t.Fatal(err)
	}
	var copied bytes.Buffer
	if _, err := io.Copy(&copied, rc); err != nil {
		t.Fatal(err)
	}
	rc.Close()

	_, rc, err = b.GetCAR(context.Background(), path.FromCid(root), params)
	if err != nil {
		t.Fatal(err)
	}
	read, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	if !bytes.Equal(copied.Bytes(), want) || !bytes.Equal(read, want) {
		t.Fatalf("copied %d bytes, read %d, boxo wrote %d: they differ", copied.Len(), len(read), len(want))
	}

	// Closed half-read: the writer ends.
	_, rc, err = b.GetCAR(context.Background(), path.FromCid(root), params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	rc.Close()
}
