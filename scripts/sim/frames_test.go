package main

import (
	"bytes"
	"encoding/binary"
	"testing"

	pb "github.com/libp2p/go-libp2p-kad-dht/pb"
	"google.golang.org/protobuf/proto"
)

// Messages split across writes at any byte, or several in one write, come
// out whole, and their type and key read as the protobuf says.
func TestFramesCutAStreamIntoMessages(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i, typ := range []pb.Message_MessageType{pb.Message_GET_PROVIDERS, pb.Message_ADD_PROVIDER, pb.Message_FIND_NODE} {
		m := &pb.Message{Type: typ, Key: []byte{byte(i), 1, 2}, CloserPeers: []*pb.Message_Peer{{Id: []byte("peer")}}}
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, b)
		stream = binary.AppendUvarint(stream, uint64(len(b)))
		stream = append(stream, b...)
	}
	for _, chunk := range []int{1, 3, 7, len(stream)} {
		var f frames
		var got [][]byte
		for i := 0; i < len(stream); i += chunk {
			f.feed(stream[i:min(i+chunk, len(stream))], func(m []byte) { got = append(got, bytes.Clone(m)) })
		}
		if len(got) != len(want) {
			t.Fatalf("chunks of %d: %d messages, want %d", chunk, len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("chunks of %d: message %d differs", chunk, i)
			}
		}
	}
	typ, key := kadHeader(want[1])
	if pb.Message_MessageType(typ) != pb.Message_ADD_PROVIDER || !bytes.Equal(key, []byte{1, 1, 2}) {
		t.Fatalf("header = %v %v", typ, key)
	}
}

func TestFramesStopOnAnImpossibleLength(t *testing.T) {
	var f frames
	calls := 0
	f.feed(binary.AppendUvarint(nil, maxFrame+1), func([]byte) { calls++ })
	f.feed([]byte{0, 1, 2}, func([]byte) { calls++ })
	if !f.broken || calls != 0 || f.buf != nil {
		t.Fatalf("broken=%v calls=%d buffered=%d", f.broken, calls, len(f.buf))
	}
}
