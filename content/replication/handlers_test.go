package replication

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/libp2p/go-libp2p/core/peer"
)

// handlerService is one service with a stranger and a friend to ask it.
func handlerService(t *testing.T, cfg Config, d *dag) (*Service, *fakeStore, peer.ID, peer.ID) {
	sw := newSwarm(t, 3, cfg, d)
	return sw.srv[0], sw.store[0], sw.hosts[1].ID(), sw.hosts[2].ID()
}

func holdRequest(origin peer.ID, d *dag) *request {
	r := &Record{Root: d.root, Serial: 1, Factor: 2, Size: d.size(), Origin: origin, Holders: []*Holder{{Peer: origin}}}
	req := rootRequest(kindHold, d.root)
	req.Record = r.toWire()
	return req
}

func TestHandlers(t *testing.T) {
	d := newDAG(t, 4)
	ch := challenge{Block: d.links[d.root][1], Nonce: []byte("nonce")}
	want := proofOf(ch.Nonce, d.blocks[ch.Block])
	for _, tc := range []struct {
		name    string
		cfg     func(*Config)
		setup   func(*Service, *fakeStore, peer.ID)
		from    int // 0 a trusted peer, 1 a stranger
		req     func(peer.ID) *request
		refused string
		check   func(*testing.T, *response, *fakeStore)
	}{{
		name: "hold fetches and pins",
		req:  func(o peer.ID) *request { return holdRequest(o, d) },
		check: func(t *testing.T, r *response, s *fakeStore) {
			if !r.Held || !s.isPinned(d.root) || s.holdCalls() != 1 {
				t.Fatalf("held %v pinned %v fetches %d", r.Held, s.isPinned(d.root), s.holdCalls())
			}
		},
	}, {
		name: "hold twice holds once",
		setup: func(srv *Service, s *fakeStore, o peer.ID) {
			srv.handle(t.Context(), o, holdRequest(o, d), d.root)
		},
		req: func(o peer.ID) *request { return holdRequest(o, d) },
		check: func(t *testing.T, r *response, s *fakeStore) {
			if !r.Held || s.holdCalls() != 1 {
				t.Fatalf("held %v fetches %d", r.Held, s.holdCalls())
			}
		},
	}, {
		name:    "a stranger is refused, nothing fetched",
		cfg:     func(c *Config) { c.Private = false; c.Trusted = nil },
		from:    1,
		req:     func(o peer.ID) *request { return holdRequest(o, d) },
		refused: "not trusted",
		check: func(t *testing.T, r *response, s *fakeStore) {
			if s.holdCalls() != 0 {
				t.Fatal("fetched for a stranger")
			}
		},
	}, {
		name:    "over max_bytes",
		cfg:     func(c *Config) { c.MaxBytes = d.size() - 1 },
		req:     func(o peer.ID) *request { return holdRequest(o, d) },
		refused: "replication.max_bytes",
	}, {
		name:    "over storage_max",
		setup:   func(_ *Service, s *fakeStore, _ peer.ID) { s.free = 10 },
		req:     func(o peer.ID) *request { return holdRequest(o, d) },
		refused: "content.storage_max",
	}, {
		name:    "not accepting",
		cfg:     func(c *Config) { c.Accept = false },
		req:     func(o peer.ID) *request { return holdRequest(o, d) },
		refused: "replication.accept",
	}, {
		name:    "hold without a record",
		req:     func(peer.ID) *request { return rootRequest(kindHold, d.root) },
		refused: "without a record",
	}, {
		name: "check of a root not held",
		req:  func(peer.ID) *request { return rootRequest(kindCheck, d.root) },
		check: func(t *testing.T, r *response, _ *fakeStore) {
			if r.Held || r.Record != nil {
				t.Fatalf("held %v record %v", r.Held, r.Record)
			}
		},
	}, {
		name: "check proves with the block's bytes",
		setup: func(srv *Service, s *fakeStore, o peer.ID) {
			srv.handle(t.Context(), o, holdRequest(o, d), d.root)
		},
		req: func(peer.ID) *request {
			r := rootRequest(kindCheck, d.root)
			r.Block, r.Nonce = ch.Block.Bytes(), ch.Nonce
			return r
		},
		check: func(t *testing.T, r *response, _ *fakeStore) {
			if err := checkProof(r, want); err != nil || r.Record == nil {
				t.Fatalf("proof: %v, record %v", err, r.Record)
			}
		},
	}, {
		name: "check without the bytes cannot prove",
		setup: func(srv *Service, s *fakeStore, o peer.ID) {
			srv.handle(t.Context(), o, holdRequest(o, d), d.root)
			s.forget()
		},
		req: func(peer.ID) *request {
			r := rootRequest(kindCheck, d.root)
			r.Block, r.Nonce = ch.Block.Bytes(), ch.Nonce
			return r
		},
		check: func(t *testing.T, r *response, _ *fakeStore) {
			if err := checkProof(r, want); err == nil {
				t.Fatal("proved without the bytes")
			}
		},
	}, {
		name: "release drops the replica",
		setup: func(srv *Service, s *fakeStore, o peer.ID) {
			srv.handle(t.Context(), o, holdRequest(o, d), d.root)
		},
		req: func(peer.ID) *request { return rootRequest(kindRelease, d.root) },
		check: func(t *testing.T, _ *response, s *fakeStore) {
			if s.isPinned(d.root) {
				t.Fatal("still pinned")
			}
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			srv, store, stranger, friend := handlerService(t, cfg, d)
			if tc.setup != nil {
				tc.setup(srv, store, friend)
			}
			from := friend
			if tc.from == 1 {
				from = stranger
			}
			resp, err := srv.handle(t.Context(), from, tc.req(friend), d.root)
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("error %v, want one saying %q", err, tc.refused)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, resp, store)
			}
		})
	}
}

func TestDecodeRefusesBadMessages(t *testing.T) {
	root := newDAG(t, 1).root
	good := func() *request { r := rootRequest(kindCheck, root); r.Version = wireVersion; return r }
	for _, tc := range []struct {
		name string
		data func() []byte
		want string
	}{
		{"garbage", func() []byte { return []byte{0xff, 0x00, 0x13} }, "decode"},
		{"another version", func() []byte { r := good(); r.Version = 2; b, _ := cbor.Marshal(r); return b }, "version 2"},
		{"bad root", func() []byte { r := good(); r.Root = []byte("x"); b, _ := cbor.Marshal(r); return b }, "root"},
		{"long nonce", func() []byte { r := good(); r.Nonce = make([]byte, 65); b, _ := cbor.Marshal(r); return b }, "nonce"},
		{"huge array", func() []byte {
			r := good()
			r.Record = &wireRecord{Holders: make([][]byte, 1000)}
			b, _ := cbor.Marshal(r)
			return b
		}, "decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := decodeRequest(tc.data())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	b, _ := cbor.Marshal(good())
	if _, c, err := decodeRequest(b); err != nil || c != root {
		t.Fatalf("good request: %v %v", c, err)
	}
	if _, err := readAll(bytes.NewReader(make([]byte, maxMessageSize+1))); err == nil {
		t.Fatal("oversized message read")
	}
}

// Each peer gets its own bucket: one peer's burst does not starve another.
func TestLimiterPerPeer(t *testing.T) {
	l := newLimiter(1) // bursts of 4
	a, b := peer.ID("a"), peer.ID("b")
	for i := range 4 {
		if !l.allow(a) {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if l.allow(a) {
		t.Fatal("fifth request in a burst allowed")
	}
	if !l.allow(b) {
		t.Fatal("another peer refused")
	}
}
