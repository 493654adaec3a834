// Package shelltest provides an in-memory shell.Backend, so that the shell,
// its client and the CLI can be tested over real HTTP without a libp2p
// node, as net/http/httptest does for handlers. It is for tests only.
package shelltest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multicodec"
	mh "github.com/multiformats/go-multihash"

	"github.com/cairnnet/cairn/shell"
)

var _ shell.Backend = (*Backend)(nil)

// Backend is a fake node. Content it does not hold is "being fetched"
// until the caller's context ends, as on a real network, which lets tests
// exercise timeouts deterministically.
type Backend struct {
	Self      shell.Identity
	PeerList  []shell.PeerInfo
	Providers map[cid.Cid][]peer.AddrInfo
	// ConnectErr, if set, fails every Connect.
	ConnectErr error
	// AddProgress, if set, receives the running byte count after each read
	// Add makes, so a test can see an upload consumed while it is sent.
	AddProgress chan<- int64
	// Panic, if set, is what Identity panics with.
	Panic any
	// Bitswap and FastPath are what the exchange statistics report
	// (stats.go); BitswapErr, if set, fails BitswapStats (wrap
	// shell.ErrOffline for an offline node).
	Bitswap    shell.BitswapStats
	BitswapErr error
	FastPath   shell.FastPathStats

	mu        sync.Mutex
	nodes     map[cid.Cid]func() files.Node
	blocks    map[cid.Cid][]byte
	lastAdd   shell.AddOptions
	lastPut   shell.BlockPutOptions
	dirs      map[cid.Cid][]shell.DirEntry
	connected []ma.Multiaddr
	repo      repoState // pins and corruption, in repo.go
}

// New returns an empty fake whose identity is PeerID(0).
func New() *Backend {
	id, pub := PeerKey(0)
	return &Backend{
		Self: shell.Identity{
			ID:           id,
			PublicKey:    pub,
			Addresses:    []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4001"), ma.StringCast("/ip4/10.0.0.1/udp/4001/quic-v1")},
			AgentVersion: "cairn/test",
			Protocols:    []string{"/ipfs/kad/1.0.0", "/ipfs/bitswap/1.2.0"},
		},
		Providers: map[cid.Cid][]peer.AddrInfo{},
		nodes:     map[cid.Cid]func() files.Node{},
		blocks:    map[cid.Cid][]byte{},
		dirs:      map[cid.Cid][]shell.DirEntry{},
	}
}

// PeerKey derives a stable peer ID and base64 public key from n.
func PeerKey(n byte) (peer.ID, string) {
	_, pub, err := crypto.GenerateEd25519Key(bytes.NewReader(bytes.Repeat([]byte{n + 1}, 64)))
	if err != nil {
		panic(err) // cannot happen: the reader never runs dry
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		panic(err)
	}
	raw, err := crypto.MarshalPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return id, base64.StdEncoding.EncodeToString(raw)
}

// PeerID is PeerKey's ID alone.
func PeerID(n byte) peer.ID {
	id, _ := PeerKey(n)
	return id
}

// RawCid is the CIDv1 of data as a raw sha2-256 block.
func RawCid(data []byte) cid.Cid {
	sum, _ := mh.Sum(data, mh.SHA2_256, -1)
	return cid.NewCidV1(cid.Raw, sum)
}

// AddFile stores data as a file and returns its CID.
func (b *Backend) AddFile(data []byte) cid.Cid {
	return b.put(RawCid(data), func() files.Node { return files.NewBytesFile(data) })
}

// AddDirectory stores a one-level directory of files.
func (b *Backend) AddDirectory(entries map[string][]byte) cid.Cid {
	h := sha256.New()
	for name, data := range entries {
		fmt.Fprintf(h, "%s\x00%x\x00", name, sha256.Sum256(data))
	}
	sum, _ := mh.Encode(h.Sum(nil), mh.SHA2_256)
	return b.put(cid.NewCidV1(cid.DagProtobuf, sum), func() files.Node {
		nodes := map[string]files.Node{}
		for name, data := range entries {
			nodes[name] = files.NewBytesFile(data)
		}
		return files.NewMapDirectory(nodes)
	})
}

// AddBrokenFile stores a file that yields data and then fails with err,
// like a fetch that dies half-way.
func (b *Backend) AddBrokenFile(data []byte, err error) cid.Cid {
	return b.put(RawCid(append([]byte("broken:"), data...)), func() files.Node {
		return files.NewReaderFile(io.MultiReader(bytes.NewReader(data), errReader{err}))
	})
}

// AddBlock stores data as a raw block and returns its CID.
func (b *Backend) AddBlock(data []byte) cid.Cid {
	c := RawCid(data)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blocks[c] = data
	return c
}

func (b *Backend) put(c cid.Cid, mk func() files.Node) cid.Cid {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nodes[c] = mk
	return c
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// LastAdd returns the options of the latest Add.
func (b *Backend) LastAdd() shell.AddOptions {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastAdd
}

// LastPut returns the options of the latest PutBlock.
func (b *Backend) LastPut() shell.BlockPutOptions {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastPut
}

// Connected lists the addresses Connect was called with.
func (b *Backend) Connected() []ma.Multiaddr {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]ma.Multiaddr(nil), b.connected...)
}

// Identity implements shell.Backend.
func (b *Backend) Identity(context.Context) (shell.Identity, error) {
	if b.Panic != nil {
		panic(b.Panic)
	}
	return b.Self, nil
}

// Node implements shell.Backend.
func (b *Backend) Node(ctx context.Context, c cid.Cid) (files.Node, error) {
	b.mu.Lock()
	mk := b.nodes[c]
	b.mu.Unlock()
	if mk != nil {
		return mk(), nil
	}
	<-ctx.Done()
	return nil, fmt.Errorf("fetching %s: %w", c, ctx.Err())
}

// GetBlock implements shell.Backend.
func (b *Backend) GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	b.mu.Lock()
	data, ok := b.blocks[c]
	b.mu.Unlock()
	if ok {
		return blocks.NewBlockWithCid(data, c)
	}
	<-ctx.Done()
	return nil, fmt.Errorf("fetching block %s: %w", c, ctx.Err())
}

// PutBlock implements shell.Backend.
func (b *Backend) PutBlock(_ context.Context, data []byte, opts shell.BlockPutOptions) (cid.Cid, error) {
	var codec multicodec.Code
	if err := codec.Set(opts.Codec); err != nil {
		return cid.Undef, err
	}
	pref := cid.Prefix{Version: 1, Codec: uint64(codec), MhType: mh.Names[opts.MhType], MhLength: opts.MhLen}
	c, err := pref.Sum(data)
	if err != nil {
		return cid.Undef, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blocks[c] = append([]byte(nil), data...)
	b.lastPut = opts
	return c, nil
}

// Peers implements shell.Backend.
func (b *Backend) Peers(context.Context) ([]shell.PeerInfo, error) {
	return b.PeerList, nil
}

// Connect implements shell.Backend.
func (b *Backend) Connect(_ context.Context, addr ma.Multiaddr) (peer.ID, error) {
	if b.ConnectErr != nil {
		return "", b.ConnectErr
	}
	_, id := peer.SplitAddr(addr)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.connected = append(b.connected, addr)
	return id, nil
}

// FindProviders implements shell.Backend: it sends the providers listed
// for c, then keeps searching until ctx ends, as a DHT walk would.
func (b *Backend) FindProviders(ctx context.Context, c cid.Cid, limit int) (<-chan peer.AddrInfo, error) {
	out := make(chan peer.AddrInfo)
	provs := b.Providers[c]
	go func() {
		defer close(out)
		for i, p := range provs {
			if i == limit {
				return
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		}
		<-ctx.Done()
	}()
	return out, nil
}
