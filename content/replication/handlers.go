package replication

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The protocol's logic, apart from stream I/O: each handler is a function
// of (ctx, peer, message) returning the answer. An error is a refusal,
// sent to the asker as its reason.

// errNotTrusted refuses a peer that is neither in the private network nor
// in replication.trusted.
var errNotTrusted = errors.New("not trusted: this peer takes replication requests from its private network and replication.trusted only")

func (s *Service) handle(ctx context.Context, from peer.ID, req *request, root cid.Cid) (*response, error) {
	if !s.allowed(from) {
		return nil, errNotTrusted
	}
	switch req.Kind {
	case kindHold:
		return s.handleHold(ctx, from, req, root)
	case kindCheck:
		return s.handleCheck(ctx, req, root)
	case kindRelease:
		return s.handleRelease(ctx, from, root)
	}
	return nil, fmt.Errorf("unknown request kind %d", req.Kind)
}

// allowed says whether from may make requests of this peer.
func (s *Service) allowed(from peer.ID) bool {
	return s.cfg.Private || s.trusted[from]
}

// handleHold fetches and pins root as a replica, unless it is already
// held (or being fetched: a holder asked twice holds once), in which case
// it only takes the newer record.
func (s *Service) handleHold(ctx context.Context, from peer.ID, req *request, root cid.Cid) (*response, error) {
	if req.Record == nil {
		return nil, errors.New("hold without a record")
	}
	rec, err := fromWire(root, req.Record)
	if err != nil {
		return nil, err
	}
	if rec.Factor < 1 {
		return nil, errors.New("hold with a replication factor under 1")
	}
	if cur := s.update(rec); cur != nil {
		if !s.canLead(ctx, root) {
			// Held, but the blocks are gone (a crash before they
			// reached the disk): fetch them again.
			if err := s.fetchNow(ctx, root, 0); err != nil {
				return nil, err
			}
		}
		return &response{Held: true, Record: cur}, nil
	}
	if !s.cfg.Accept {
		return nil, errors.New("this peer holds no replicas (replication.accept is false)")
	}
	if err := s.fetch(ctx, rec); err != nil {
		return nil, err
	}
	return &response{Held: true, Record: s.wireRecord(root)}, nil
}

// handleCheck says whether root is held and, given a challenge, proves it.
func (s *Service) handleCheck(ctx context.Context, req *request, root cid.Cid) (*response, error) {
	rec := s.wireRecord(root)
	if rec == nil || rec.Factor == 0 {
		return &response{Record: rec}, nil
	}
	resp := &response{Held: true, Record: rec}
	if len(req.Block) == 0 {
		// Asked who leads: only a peer that can challenge others.
		resp.Held = s.canLead(ctx, root)
		return resp, nil
	}
	block, err := cid.Cast(req.Block)
	if err != nil {
		return nil, fmt.Errorf("challenge block: %w", err)
	}
	proof, err := prove(ctx, s.store, challenge{Block: block, Nonce: req.Nonce})
	if err != nil {
		logger().Info("replication: cannot prove holding", "root", root, "block", block, "err", err)
		return &response{Record: rec}, nil
	}
	resp.Proof = proof
	return resp, nil
}

// handleRelease drops this peer's replica of root. The origin's copy is
// its user's pin, and stays.
func (s *Service) handleRelease(ctx context.Context, from peer.ID, root cid.Cid) (*response, error) {
	s.mu.Lock()
	rec := s.records[root]
	isOrigin := rec != nil && rec.Origin == s.self
	s.mu.Unlock()
	if rec == nil || isOrigin {
		return &response{}, nil
	}
	logger().Debug("replication: released", "root", root, "by", from)
	return &response{}, s.drop(ctx, root)
}

// checkProof compares a holder's answer with the one expected.
func checkProof(resp *response, want []byte) error {
	switch {
	case !resp.Held:
		return errors.New("does not hold it")
	case !bytes.Equal(resp.Proof, want):
		return errors.New("failed the proof of holding")
	}
	return nil
}
