package shell

import (
	"context"
	"fmt"
	"net/http"
	"slices"

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
}

// pinsOutput is pin/add's and pin/rm's output, in Kubo's shape.
type pinsOutput struct {
	Pins []string
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
	out := pinsOutput{Pins: []string{}}
	for _, c := range cids {
		if err := s.backend.Pin(r.Context(), c, recursive); err != nil {
			return timedOut(r.Context(), fmt.Errorf("pin %s: %w", c, err), fmt.Sprintf("content %s not found", c))
		}
		out.Pins = append(out.Pins, c.String())
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
	recursive, err := boolParam(q, "recursive", true)
	if err != nil {
		return err
	}
	if !recursive {
		sts, err := s.backend.CheckPins(r.Context(), cids...)
		if err != nil {
			return err
		}
		for _, st := range sts {
			if st.Type == PinRecursive {
				return errorf(kindBadRequest, "%s is pinned recursively: pass recursive=true to unpin it", st.Cid)
			}
		}
	}
	out := pinsOutput{Pins: []string{}}
	for _, c := range cids {
		if err := s.backend.Unpin(r.Context(), c); err != nil {
			return err
		}
		out.Pins = append(out.Pins, c.String())
	}
	return writeJSON(w, out)
}

// pinLsType is one entry of pin/ls's Keys.
type pinLsType struct {
	Type string
}

// pinLsObject is one line of pin/ls with stream=true.
type pinLsObject struct {
	Cid  string
	Type string
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
			if err := out.emit(pinLsObject{Cid: p.Cid.String(), Type: p.Type}); err != nil {
				return err
			}
		}
		out.start()
		return nil
	}
	keys := make(map[string]pinLsType, len(pins))
	for _, p := range pins {
		keys[p.Cid.String()] = pinLsType{Type: p.Type}
	}
	return writeJSON(w, struct{ Keys map[string]pinLsType }{keys})
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
