package main

import (
	"encoding/binary"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxFrame is kad-dht's message size limit (network.MessageSizeMax); a
// longer length prefix means the tap lost the framing, and it stops.
const maxFrame = 4 << 20

// frames cuts a byte stream of varint-length-prefixed messages (how
// kad-dht frames its protobufs) into messages. One frames per direction
// of a stream; kad-dht never reads or writes one direction from two
// goroutines at once.
type frames struct {
	buf    []byte
	broken bool
}

// feed appends b and calls msg for each message completed by it.
func (f *frames) feed(b []byte, msg func([]byte)) {
	if f.broken || len(b) == 0 {
		return
	}
	f.buf = append(f.buf, b...)
	for {
		n, k := binary.Uvarint(f.buf)
		if k == 0 {
			return // length not complete yet
		}
		if k < 0 || n > maxFrame {
			f.broken, f.buf = true, nil
			return
		}
		if uint64(len(f.buf)-k) < n {
			return
		}
		msg(f.buf[k : k+int(n)])
		f.buf = f.buf[k+int(n):]
		if len(f.buf) == 0 {
			f.buf = nil // let a big buffer go
			return
		}
	}
}

// kadHeader reads the type (field 1) and key (field 2) of a kad-dht
// Message without decoding the rest: the tap looks at every message of
// the run, and most need no more.
func kadHeader(m []byte) (typ int32, key []byte) {
	for len(m) > 0 {
		num, wt, n := protowire.ConsumeTag(m)
		if n < 0 {
			return typ, key
		}
		m = m[n:]
		switch {
		case num == 1 && wt == protowire.VarintType:
			v, n := protowire.ConsumeVarint(m)
			if n < 0 {
				return typ, key
			}
			typ, m = int32(v), m[n:]
		case num == 2 && wt == protowire.BytesType:
			v, n := protowire.ConsumeBytes(m)
			if n < 0 {
				return typ, key
			}
			key, m = v, m[n:]
		default:
			n := protowire.ConsumeFieldValue(num, wt, m)
			if n < 0 {
				return typ, key
			}
			m = m[n:]
		}
	}
	return typ, key
}
