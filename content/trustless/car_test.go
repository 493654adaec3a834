package trustless

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/ipfs/boxo/gateway"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// sections splits a CAR into its blocks.
func sections(t *testing.T, data []byte) []blocks.Block {
	t.Helper()
	br, err := car.NewBlockReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []blocks.Block
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
}

// encode writes a CAR with root and exactly the given sections.
func encode(t *testing.T, root cid.Cid, bs []blocks.Block) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := storage.NewWritable(&buf, []cid.Cid{root}, car.WriteAsCarV1(true), car.AllowDuplicatePuts(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if err := w.Put(context.Background(), b.Cid().KeyString(), b.RawData()); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestReadCAR feeds ReadCAR a good stream and broken ones: each broken
// one ends with the right error, and every block handed out before it
// hashes to its CID and is the block the good stream has at that place.
func TestReadCAR(t *testing.T) {
	f := newFixture()
	data := make([]byte, 9_876)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rnd.Uint32())
	}
	root := f.file(t, data, true, false)
	other := f.file(t, data[:5000], true, false)
	params := gateway.CarParams{Scope: gateway.DagScopeEntity, Range: &gateway.DagByteRange{From: 1500, To: ptr(8_200)}}
	p, _ := ParamsFromGateway(params)
	good := sections(t, f.ourCAR(t, root, params))
	if len(good) < 6 {
		t.Fatalf("fixture too small: %d blocks", len(good))
	}
	stranger := sections(t, f.ourCAR(t, other, gateway.CarParams{}))
	last := len(good) - 1

	withBlock := func(i int, b blocks.Block) []blocks.Block {
		out := append([]blocks.Block(nil), good...)
		out[i] = b
		return out
	}
	corrupt, _ := blocks.NewBlockWithCid(append([]byte("x"), good[last].RawData()[1:]...), good[last].Cid())
	swapped := append([]blocks.Block(nil), good...)
	swapped[last-1], swapped[last] = swapped[last], swapped[last-1]

	tests := []struct {
		name    string
		stream  []byte
		want    error
		goodPut int // blocks handed out before the error
	}{
		{"good", encode(t, root, good), nil, len(good)},
		{"wrong bytes", encode(t, root, withBlock(last, corrupt)), ErrBadBlock, last},
		{"a block of another DAG", encode(t, root, withBlock(2, stranger[len(stranger)-1])), ErrUnexpectedBlock, 2},
		{"out of order", encode(t, root, swapped), ErrUnexpectedBlock, last - 1},
		{"extra block", encode(t, root, append(append([]blocks.Block(nil), good...), good[last])), ErrUnexpectedBlock, len(good)},
		{"truncated between blocks", encode(t, root, good[:3]), ErrTruncated, 3},
		{"truncated inside a block", func() []byte { s := encode(t, root, good); return s[:len(s)-10] }(), ErrTruncated, last},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []Block
			err := ReadCAR(bytes.NewReader(tc.stream), root, p, func(b Block) error {
				got = append(got, b)
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadCAR: %v, want %v", err, tc.want)
			}
			if len(got) != tc.goodPut {
				t.Fatalf("%d blocks handed out, want %d", len(got), tc.goodPut)
			}
			for i, b := range got {
				if !b.CID.Equals(good[i].Cid()) || !bytes.Equal(b.Data, good[i].RawData()) {
					t.Fatalf("block %d is %s, want %s", i, b.CID, good[i].Cid())
				}
			}
		})
	}

	// The file bytes the good stream carries cover the range requested.
	var covered []byte
	var next int64 = -1
	err := ReadCAR(bytes.NewReader(encode(t, root, good)), root, p, func(b Block) error {
		if b.Len == 0 {
			return nil
		}
		if next >= 0 && b.Off != next {
			t.Fatalf("leaf at %d, want %d", b.Off, next)
		}
		if next < 0 {
			covered = data[:b.Off]
		}
		next = b.Off + b.Len
		covered = append(append([]byte(nil), covered...), b.Data...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next < 8_201 || !bytes.Equal(covered, data[:next]) {
		t.Fatalf("leaves cover [.., %d) with wrong bytes, want past 8200", next)
	}

	// A header naming another root is refused before any block.
	if err := ReadCAR(bytes.NewReader(encode(t, other, good)), root, p, func(Block) error {
		t.Fatal("block handed out under a wrong header")
		return nil
	}); err == nil {
		t.Fatal("wrong root accepted")
	}
}
