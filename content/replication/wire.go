package replication

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// ProtocolID is replication's libp2p protocol: one request and one
// response per stream, each a CBOR map with integer keys.
const ProtocolID protocol.ID = "/cairn/replicate/1.0.0"

// wireVersion is the schema version every message carries; a peer answers
// a version it does not know with an error rather than guessing.
const wireVersion = 1

// maxMessageSize bounds a request or response: a record of MaxFactor
// holders plus as many departed ones is a few KiB.
const maxMessageSize = 16 << 10

// maxNonceSize bounds the nonce of a proof challenge.
const maxNonceSize = 64

// kind says what a request asks.
type kind uint8

const (
	// kindHold: hold the DAG under Root, as Record says (also sent to
	// update a holder's record; a holder asked twice holds once).
	kindHold kind = iota + 1
	// kindCheck: do you hold Root? With Block and Nonce set, prove it:
	// answer H(Nonce || Block's bytes).
	kindCheck
	// kindRelease: stop holding Root.
	kindRelease
)

// String names the request kind, for errors and logs.
func (k kind) String() string {
	switch k {
	case kindHold:
		return "hold"
	case kindCheck:
		return "check"
	case kindRelease:
		return "release"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// request is one message to a peer.
type request struct {
	Version int         `cbor:"1,keyasint"`
	Kind    kind        `cbor:"2,keyasint"`
	Root    []byte      `cbor:"3,keyasint"`
	Record  *wireRecord `cbor:"4,keyasint,omitempty"`
	Block   []byte      `cbor:"5,keyasint,omitempty"`
	Nonce   []byte      `cbor:"6,keyasint,omitempty"`
}

// response is a peer's answer. Refused carries why a request was not
// done, for the asker to show; Held and Proof answer a check; Record is
// the peer's record of Root, if any, so that every holder converges on
// the newest.
type response struct {
	Version int         `cbor:"1,keyasint"`
	Refused string      `cbor:"2,keyasint,omitempty"`
	Held    bool        `cbor:"3,keyasint,omitempty"`
	Proof   []byte      `cbor:"4,keyasint,omitempty"`
	Record  *wireRecord `cbor:"5,keyasint,omitempty"`
}

// wireRecord is a record as peers exchange it: who holds a root, and how
// many copies it should have. Factor 0 is a released pin, kept a while so
// holders that were away learn of it.
type wireRecord struct {
	Serial  uint64   `cbor:"1,keyasint"`
	Factor  int      `cbor:"2,keyasint"`
	Size    uint64   `cbor:"3,keyasint"`
	Origin  []byte   `cbor:"4,keyasint"`
	Holders [][]byte `cbor:"5,keyasint"`
}

// decMode refuses anything bigger or deeper than our messages can be.
var decMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		MaxNestedLevels:  4,
		MaxArrayElements: 4 * MaxFactor,
		MaxMapPairs:      16,
		DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	}.DecMode()
	if err != nil {
		panic(err) // the options are constants
	}
	return dm
}()

func encode(v any) ([]byte, error) {
	b, err := cbor.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if len(b) > maxMessageSize {
		return nil, fmt.Errorf("encode: message of %d bytes exceeds %d", len(b), maxMessageSize)
	}
	return b, nil
}

func decodeRequest(b []byte) (*request, cid.Cid, error) {
	var req request
	if err := decMode.Unmarshal(b, &req); err != nil {
		return nil, cid.Undef, fmt.Errorf("decode request: %w", err)
	}
	if req.Version != wireVersion {
		return nil, cid.Undef, fmt.Errorf("request version %d: this peer speaks %d", req.Version, wireVersion)
	}
	root, err := cid.Cast(req.Root)
	if err != nil {
		return nil, cid.Undef, fmt.Errorf("request root: %w", err)
	}
	if len(req.Nonce) > maxNonceSize {
		return nil, cid.Undef, fmt.Errorf("nonce of %d bytes exceeds %d", len(req.Nonce), maxNonceSize)
	}
	return &req, root, nil
}

func decodeResponse(b []byte) (*response, error) {
	var resp response
	if err := decMode.Unmarshal(b, &resp); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	if resp.Version != wireVersion {
		return nil, fmt.Errorf("response version %d: this peer speaks %d", resp.Version, wireVersion)
	}
	return &resp, nil
}

// toWire and fromWire convert a record's shared part.
func (r *Record) toWire() *wireRecord {
	w := &wireRecord{Serial: r.Serial, Factor: r.Factor, Size: r.Size, Origin: []byte(r.Origin)}
	for _, h := range r.Holders {
		w.Holders = append(w.Holders, []byte(h.Peer))
	}
	return w
}

func fromWire(root cid.Cid, w *wireRecord) (*Record, error) {
	if w.Factor < 0 || w.Factor > MaxFactor {
		return nil, fmt.Errorf("record factor %d out of range", w.Factor)
	}
	origin, err := peer.IDFromBytes(w.Origin)
	if err != nil {
		return nil, fmt.Errorf("record origin: %w", err)
	}
	r := &Record{Root: root, Serial: w.Serial, Factor: w.Factor, Size: w.Size, Origin: origin}
	for _, b := range w.Holders {
		id, err := peer.IDFromBytes(b)
		if err != nil {
			return nil, fmt.Errorf("record holder: %w", err)
		}
		if r.holder(id) == nil {
			r.Holders = append(r.Holders, &Holder{Peer: id})
		}
	}
	return r, nil
}
