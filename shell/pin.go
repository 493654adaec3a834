package shell

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
)

// PinBackend is what the pin commands need from the node.
type PinBackend interface {
	// Pin pins c, recursively or directly, fetching whatever of it is
	// missing.
	Pin(ctx context.Context, c cid.Cid, recursive bool) error
	// Unpin removes c's pin, recursive or direct.
	Unpin(ctx context.Context, c cid.Cid) error
	// ListPins lists the pins of the given types (PinRecursive, PinDirect,
	// PinIndirect).
	ListPins(ctx context.Context, types ...string) ([]PinStatus, error)
	// CheckPins says how each CID is pinned; Type is "" for one that is
	// not.
	CheckPins(ctx context.Context, cids ...cid.Cid) ([]PinStatus, error)
}

// Pin types, as Kubo names them.
const (
	PinRecursive = "recursive"
	PinDirect    = "direct"
	PinIndirect  = "indirect"
)

// PinStatus is how one CID is pinned.
type PinStatus struct {
	Cid  cid.Cid
	Type string
	// Replication is the factor this node keeps the pin at (0: none).
	Replication int
	// Replica says the node holds the CID for another peer.
	Replica bool
}

// pinsOutput is pin/add's and pin/rm's output, in Kubo's shape, plus the
// state of the copies pin/add?replicate=N asked for (Kubo's clients
// ignore the extra field).
type pinsOutput struct {
	Pins        []string
	Replication []Replication `json:",omitempty"`
}

// pinAdd pins each arg, recursively unless recursive=false.
func (s *shell) pinAdd(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	recursive, err := boolParam(q, "recursive", true)
	if err != nil {
		return err
	}
	factor, err := s.replicateParam(q, recursive)
	if err != nil {
		return err
	}
	out := pinsOutput{Pins: []string{}}
	for _, c := range cids {
		if err := s.backend.Pin(r.Context(), c, recursive); err != nil {
			return timedOut(r.Context(), fmt.Errorf("pin %s: %w", c, err), fmt.Sprintf("content %s not found", c))
		}
		out.Pins = append(out.Pins, c.String())
		if factor > 1 {
			st, err := s.backend.(ReplicationBackend).Replicate(r.Context(), c, factor)
			if err != nil {
				return fmt.Errorf("pin %s: %w", c, err)
			}
			out.Replication = append(out.Replication, st)
		}
	}
	return writeJSON(w, out)
}

// pinRm unpins each arg. With recursive=false, as in Kubo, a recursive pin
// is refused rather than removed.
func (s *shell) pinRm(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	cids, err := cidArgs(q)
	if err != nil {
		return err
	}
	release, err := s.releaser(q)
	if err != nil {
		return err
	}
	if err := s.refuseRecursive(r.Context(), q, cids); err != nil {
		return err
	}
	out := pinsOutput{Pins: []string{}}
	for _, c := range cids {
		if err := release(r.Context(), c); err != nil {
			return err
		}
		if err := s.backend.Unpin(r.Context(), c); err != nil {
			return err
		}
		out.Pins = append(out.Pins, c.String())
	}
	return writeJSON(w, out)
}

// releaser reads pin/rm's replicate option: with it, the copies other
// peers keep are released before the unpin.
func (s *shell) releaser(q url.Values) (func(context.Context, cid.Cid) error, error) {
	replicated, err := boolParam(q, "replicate", false)
	if err != nil || !replicated {
		return func(context.Context, cid.Cid) error { return nil }, err
	}
	rb, ok := s.backend.(ReplicationBackend)
	if !ok {
		return nil, errorf(kindBadRequest, "option \"replicate\": this node does not replicate pins")
	}
	return rb.Unreplicate, nil
}

// refuseRecursive: with recursive=false, as in Kubo, a recursive pin is
// refused rather than removed.
func (s *shell) refuseRecursive(ctx context.Context, q url.Values, cids []cid.Cid) error {
	recursive, err := boolParam(q, "recursive", true)
	if err != nil || recursive {
		return err
	}
	sts, err := s.backend.CheckPins(ctx, cids...)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if st.Type == PinRecursive {
			return errorf(kindBadRequest, "%s is pinned recursively: pass recursive=true to unpin it", st.Cid)
		}
	}
	return nil
}

// pinLsType is one entry of pin/ls's Keys; Replication and Replica are
// Cairn's own, and Kubo's clients ignore them.
type pinLsType struct {
	Type        string
	Replication int  `json:",omitempty"`
	Replica     bool `json:",omitempty"`
}

// pinLsObject is one line of pin/ls with stream=true.
type pinLsObject struct {
	Cid string
	pinLsType
}

// pinLs lists pins, all types by default as in Kubo, or reports how each
// arg is pinned, failing for one that is not.
func (s *shell) pinLs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	types, err := pinTypes(q.Get("type"))
	if err != nil {
		return err
	}
	stream, err := boolParam(q, "stream", false)
	if err != nil {
		return err
	}
	var pins []PinStatus
	if q.Has("arg") {
		pins, err = s.checkPins(r.Context(), q, types)
	} else {
		pins, err = s.backend.ListPins(r.Context(), types...)
	}
	if err != nil {
		return err
	}
	if stream {
		out := &jsonStream{w: w}
		for _, p := range pins {
			if err := out.emit(pinLsObject{Cid: p.Cid.String(), pinLsType: lsType(p)}); err != nil {
				return err
			}
		}
		out.start()
		return nil
	}
	keys := make(map[string]pinLsType, len(pins))
	for _, p := range pins {
		keys[p.Cid.String()] = lsType(p)
	}
	return writeJSON(w, struct{ Keys map[string]pinLsType }{keys})
}

func lsType(p PinStatus) pinLsType {
	return pinLsType{Type: p.Type, Replication: p.Replication, Replica: p.Replica}
}

// checkPins reports how each arg is pinned, with Kubo's error for one no
// pin of the given types covers.
func (s *shell) checkPins(ctx context.Context, q map[string][]string, types []string) ([]PinStatus, error) {
	cids, err := cidArgs(q)
	if err != nil {
		return nil, err
	}
	sts, err := s.backend.CheckPins(ctx, cids...)
	if err != nil {
		return nil, err
	}
	for i, st := range sts {
		if !slices.Contains(types, st.Type) {
			return nil, errorf(kindInternal, "path '%s' is not pinned", q["arg"][i])
		}
	}
	return sts, nil
}

// pinTypes reads pin/ls's type option: all (the default), recursive,
// direct or indirect.
func pinTypes(t string) ([]string, error) {
	switch t {
	case "", "all":
		return []string{PinRecursive, PinDirect, PinIndirect}, nil
	case PinRecursive, PinDirect, PinIndirect:
		return []string{t}, nil
	default:
		return nil, errorf(kindBadRequest, "invalid type %q: want all, recursive, direct or indirect", t)
	}
}

// ReplicationBackend is implemented by a Backend that keeps pins at a
// replication factor: pin/add?replicate=N, pin/rm?replicate and
// pin/status. It is apart from PinBackend so that test fakes need not
// implement it.
type ReplicationBackend interface {
	// DefaultReplication is the factor of a pin/add that names none.
	DefaultReplication() int
	// Replicate has factor peers in all (this one included) hold c,
	// already pinned here, and reports the first round's outcome.
	Replicate(ctx context.Context, c cid.Cid, factor int) (Replication, error)
	// Unreplicate releases the copies Replicate asked for; nothing for a
	// CID not replicated from here.
	Unreplicate(ctx context.Context, c cid.Cid) error
	// Replication reports c's holders; an error for a CID this node does
	// not replicate or hold for another.
	Replication(ctx context.Context, c cid.Cid) (Replication, error)
}

// Replication is pin/status's answer: how many copies a pin should have,
// the live ones, and each holder with its last proof of holding.
type Replication struct {
	Cid    string
	Factor int
	Live   int
	Origin string
	// Replica says this node holds Cid for Origin.
	Replica  bool
	Holders  []ReplicationHolder
	Refusals []ReplicationRefusal `json:",omitempty"`
}

// ReplicationHolder is one holder of a replicated pin.
type ReplicationHolder struct {
	Peer       string
	Live       bool
	LastProved *time.Time `json:",omitempty"`
	Error      string     `json:",omitempty"`
}

// ReplicationRefusal is a peer that would not hold the pin, and why.
type ReplicationRefusal struct {
	Peer   string
	Reason string
}

// replicateParam reads pin/add's replicate option: the copies wanted,
// replication.default when not given.
func (s *shell) replicateParam(q url.Values, recursive bool) (int, error) {
	rb, ok := s.backend.(ReplicationBackend)
	n, set, err := intParam(q, "replicate", 0)
	switch {
	case err != nil:
		return 0, err
	case !set && ok:
		n = int64(rb.DefaultReplication())
	case n < 0:
		return 0, errorf(kindBadRequest, "option \"replicate\": %d copies is negative", n)
	}
	if n <= 1 {
		return 0, nil
	}
	if !ok {
		return 0, errorf(kindBadRequest, "option \"replicate\": this node does not replicate pins")
	}
	if !recursive {
		return 0, errorf(kindBadRequest, "option \"replicate\": only a recursive pin can be replicated")
	}
	return int(n), nil
}

// pinStatus answers pin/status: a replicated pin's holders.
func (s *shell) pinStatus(w http.ResponseWriter, r *http.Request) error {
	c, err := oneCIDArg(r.URL.Query())
	if err != nil {
		return err
	}
	rb, ok := s.backend.(ReplicationBackend)
	if !ok {
		return errorf(kindUnknownCommand, "pin/status: this node does not replicate pins: %w", errors.ErrUnsupported)
	}
	st, err := rb.Replication(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, st)
}
