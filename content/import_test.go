package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"golang.org/x/crypto/chacha20"
)

// kuboSeededBytes reproduces the deterministic input of Kubo's and
// js-ipfs-unixfs's IPIP-499 profile tests: the ChaCha20 key stream under the
// key sha256(seed) and an all-zero nonce.
func kuboSeededBytes(t *testing.T, n int, seed string) []byte {
	t.Helper()
	key := sha256.Sum256([]byte(seed))
	var nonce [chacha20.NonceSize]byte
	s, err := chacha20.NewUnauthenticatedCipher(key[:], nonce[:])
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	s.XORKeyStream(b, b)
	return b
}

// TestImportProfileCIDs checks Import's defaults against CIDs published for
// the unixfs-v1-2025 profile (Kubo's test/cli/cid_profiles_test.go and
// js-ipfs-unixfs's ipip-499 tests); the empty file is the raw CIDv1 of no
// bytes.
func TestImportProfileCIDs(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	over := kuboSeededBytes(t, 1<<20+1, "chunk-v1-seed")
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
		{"hello world", []byte("hello world"), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"},
		{"1 MiB", over[:1<<20], "bafkreiacndfy443ter6qr2tmbbdhadvxxheowwf75s6zehscklu6ezxmta"},
		{"1 MiB + 1", over, "bafybeigmix7t42i6jacydtquhet7srwvgpizfg7gjbq7627d35mjomtu64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := importBytes(t, c, tt.data, ImportOptions{CIDVersion: -1})
			if res.Cid.String() != tt.want {
				t.Fatalf("CID = %s, want %s", res.Cid, tt.want)
			}
			if len(tt.data) <= 1<<20 && res.Size != uint64(len(tt.data)) {
				t.Fatalf("Size = %d, want %d for a single raw leaf", res.Size, len(tt.data))
			}
		})
	}
}

// TestImportChunkBoundary: one byte over a chunk gives a dag-pb root over
// two raw leaves, and Size counts the root block as Kubo's add does.
func TestImportChunkBoundary(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	data := randomBytes(1<<20+1, 1)
	res := importBytes(t, c, data, ImportOptions{CIDVersion: -1})
	if p := res.Cid.Prefix(); p.Codec != cid.DagProtobuf || p.Version != 1 {
		t.Fatalf("root %s: want a dag-pb CIDv1", res.Cid)
	}
	nd, err := c.dag.Get(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	links := nd.Links()
	if len(links) != 2 {
		t.Fatalf("root has %d links, want 2", len(links))
	}
	for i, l := range links {
		if l.Cid.Prefix().Codec != cid.Raw {
			t.Errorf("leaf %d is %s, want a raw block", i, l.Cid)
		}
	}
	if links[0].Size != 1<<20 || links[1].Size != 1 {
		t.Errorf("leaf sizes %d, %d; want 1048576, 1", links[0].Size, links[1].Size)
	}
	if want := uint64(len(nd.RawData()) + len(data)); res.Size != want {
		t.Errorf("Size = %d, want %d", res.Size, want)
	}
}

func TestImportReadRoundTrip(t *testing.T) {
	ctx := testContext(t)
	c := newOffline(t, DefaultConfig())
	data := randomBytes(5<<20+12345, 2)
	res := importBytes(t, c, data, ImportOptions{ChunkSize: 256 << 10, CIDVersion: -1})

	var blocks int
	err := merkledag.Walk(ctx, merkledag.GetLinksWithDAG(c.dag), res.Cid, func(cid.Cid) bool { blocks++; return true })
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + (len(data)+256<<10-1)/(256<<10); blocks != want {
		t.Fatalf("DAG has %d blocks, want %d (root + leaves)", blocks, want)
	}
	nd, err := c.Node(ctx, res.Cid)
	if err != nil {
		t.Fatal(err)
	}
	if got := readNode(t, nd); !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes back, differing from the %d imported", len(got), len(data))
	}
}

func TestImportOnlyHash(t *testing.T) {
	ds := NewMemoryDatastore()
	c := newTestContent(t, nil, nil, ds, DefaultConfig())
	data := randomBytes(3<<20, 3)

	hashed := importBytes(t, c, data, ImportOptions{CIDVersion: -1, OnlyHash: true, Pin: true})
	if keys := queryKeys(t, ds, "/"); len(keys) != 0 {
		t.Fatalf("OnlyHash wrote %d keys, e.g. %s", len(keys), keys[0])
	}
	stored := importBytes(t, c, data, ImportOptions{CIDVersion: -1})
	if !hashed.Cid.Equals(stored.Cid) || hashed.Size != stored.Size {
		t.Fatalf("OnlyHash gave %s/%d, a real import %s/%d", hashed.Cid, hashed.Size, stored.Cid, stored.Size)
	}
	if countKeys(t, ds, "/blocks") == 0 {
		t.Fatal("the real import stored nothing")
	}
}

func TestImportOptions(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	data := randomBytes(300<<10, 4)
	no := false

	v0 := importBytes(t, c, data, ImportOptions{CIDVersion: 0, ChunkSize: 256 << 10})
	if v0.Cid.Version() != 0 {
		t.Errorf("CIDVersion 0: got %s", v0.Cid)
	}
	wrapped := importBytes(t, c, data, ImportOptions{CIDVersion: 1, RawLeaves: &no})
	if wrapped.Cid.Prefix().Codec != cid.DagProtobuf {
		t.Errorf("RawLeaves false on one chunk: got %s, want a dag-pb root", wrapped.Cid)
	}
	if _, err := c.Import(t.Context(), bytes.NewReader(data), ImportOptions{CIDVersion: 2}); err == nil {
		t.Error("CIDVersion 2 accepted")
	}
	if _, err := c.Import(t.Context(), bytes.NewReader(data), ImportOptions{CIDVersion: -1, ChunkSize: 10}); err == nil {
		t.Error("ChunkSize 10 accepted")
	}
}

// failingReader returns n good bytes, then err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	clear(p[:k])
	r.n -= k
	return k, nil
}

func TestImportReadErrorNamesChunk(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	boom := errors.New("disk on fire")
	_, err := c.Import(t.Context(), &failingReader{n: 3*1024 + 10, err: boom}, ImportOptions{CIDVersion: -1, ChunkSize: 1024})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want it to wrap the reader's error", err)
	}
	if want := "import: chunk 3 (offset 3072): "; !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %q, want prefix %q", err, want)
	}
}

func TestImportStopsOnCancel(t *testing.T) {
	c := newOffline(t, DefaultConfig())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := c.Import(ctx, io.LimitReader(zeroReader{}, 1<<30), ImportOptions{CIDVersion: -1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
