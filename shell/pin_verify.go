package shell

import (
	"context"
	"net/http"

	"github.com/ipfs/go-cid"
)

// PinVerifyBackend is a node that can check its recursive pins.
type PinVerifyBackend interface {
	// VerifyPins checks that each recursive pin's DAG is whole in the
	// local store, calling each with the outcome for every pin.
	VerifyPins(ctx context.Context, each func(PinCheck) error) error
}

// PinCheck is one pin's outcome: the blocks under it that are missing,
// damaged or undecodable, with why; none when the DAG is whole.
type PinCheck struct {
	Cid cid.Cid
	Bad []BadBlock
}

// BadBlock is a block a pin needs that the store cannot give, and why.
type BadBlock struct {
	Cid cid.Cid
	Err string
}

// pinVerifyResult is one line of Kubo's pin/verify output.
type pinVerifyResult struct {
	Cid      string    `json:",omitempty"`
	Ok       bool      `json:",omitempty"`
	BadNodes []badNode `json:",omitempty"`
}

type badNode struct {
	Cid string
	Err string
}

// pinVerify streams the broken pins (with verbose=true, the whole ones
// too), with their bad blocks unless quiet=true, as Kubo does.
func (s *shell) pinVerify(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	verbose, err := boolParam(q, "verbose", false)
	if err != nil {
		return err
	}
	quiet, err := boolParam(q, "quiet", false)
	if err != nil {
		return err
	}
	if verbose && quiet {
		return errorf(kindBadRequest, "the verbose and quiet options exclude each other")
	}
	vb, ok := s.backend.(PinVerifyBackend)
	if !ok {
		return errorf(kindInternal, "this node cannot verify its pins")
	}
	out := &jsonStream{w: w}
	err = vb.VerifyPins(r.Context(), func(p PinCheck) error {
		res := pinVerifyResult{Cid: p.Cid.String(), Ok: len(p.Bad) == 0}
		if res.Ok && !verbose {
			return nil
		}
		if !quiet {
			for _, b := range p.Bad {
				res.BadNodes = append(res.BadNodes, badNode{Cid: b.Cid.String(), Err: b.Err})
			}
		}
		return out.emit(res)
	})
	if err != nil {
		return err
	}
	out.start()
	return nil
}
