package shell

import (
	"context"
	"time"

	"github.com/ipfs/boxo/files"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Backend is what the shell needs from a running node. The shell depends on
// this narrow interface rather than on the node itself so that handlers can be
// tested against a fake and the node can change underneath without touching
// the HTTP surface.
type Backend interface {
	// Identity reports who this node is and how it can be reached.
	Identity(ctx context.Context) (Identity, error)

	// AddNode imports a file, a symlink or a directory tree (as the
	// multipart upload of /api/v0/add decodes it, read as it arrives) as a
	// UnixFS DAG and returns its root. It calls events.Added for every
	// entry once built, children before their directory and the root
	// last, and events.Progress as file bytes are read.
	AddNode(ctx context.Context, nd files.Node, opts AddOptions, events AddEvents) (AddResult, error)
	// List returns the entries of the UnixFS directory c, fetching what
	// it must; isDir is false when c is not a directory.
	List(ctx context.Context, c cid.Cid) (entries []DirEntry, isDir bool, err error)
	// Node opens a UnixFS node (file or directory) for reading, fetching
	// blocks from the network when they are not held locally.
	Node(ctx context.Context, c cid.Cid) (files.Node, error)

	// GetBlock returns one block, from the local store or the network.
	GetBlock(ctx context.Context, c cid.Cid) (blocks.Block, error)
	// PutBlock stores data as one block whose CID is built from the given
	// codec and multihash names (e.g. "raw", "sha2-256").
	PutBlock(ctx context.Context, data []byte, opts BlockPutOptions) (cid.Cid, error)

	// Peers lists the peers this node is connected to.
	Peers(ctx context.Context) ([]PeerInfo, error)
	// Connect dials a peer at a multiaddr that ends in /p2p/<peer-id>.
	Connect(ctx context.Context, addr ma.Multiaddr) (peer.ID, error)
	// FindProviders streams peers that announce they provide c; the channel
	// closes when the search ends or ctx is done.
	FindProviders(ctx context.Context, c cid.Cid, limit int) (<-chan peer.AddrInfo, error)

	// KnownAddrs lists every address the node knows for other peers,
	// connected or not (swarm/addrs).
	KnownAddrs(ctx context.Context) (map[peer.ID][]ma.Multiaddr, error)
	// RoutingTables describes the DHTs' routing tables (stats/dht).
	RoutingTables(ctx context.Context) ([]RoutingTable, error)

	// Pins (pin.go), garbage collection, stat and verify (repo.go), CAR
	// import and export (dag.go), and exchange statistics
	// (stats_exchange.go).
	PinBackend
	RepoBackend
	DAGBackend
	ExchangeStatsBackend
}

// Identity is the node's self-description, shaped like Kubo's /api/v0/id.
type Identity struct {
	ID           peer.ID
	PublicKey    string // base64 of the protobuf-encoded public key, as Kubo sends it
	Addresses    []ma.Multiaddr
	AgentVersion string
	Protocols    []string

	// Reachability is what AutoNAT last concluded: "public", "private"
	// or "unknown". Addresses include relay addresses while the node is
	// private and holds relay reservations.
	Reachability string
}

// AddOptions are the import settings a request may override; zero values
// mean "use the node's configured default".
type AddOptions struct {
	Name       string // file name, reported back in the response
	ChunkSize  int    // bytes per leaf; 0 means the configured default
	Chunker    string // another chunker than size-N ("rabin-MIN-AVG-MAX", "buzhash"); "" for ChunkSize
	CIDVersion int    // -1 means the configured default
	RawLeaves  *bool  // nil means the configured default
	Pin        bool
	OnlyHash   bool // compute the CID without storing anything
}

// AddResult describes an imported file.
type AddResult struct {
	Cid  cid.Cid
	Size uint64 // cumulative size of the DAG in bytes, as Kubo reports it
}

// AddEvents receives what an AddNode reports as it goes. Either func may
// be nil.
type AddEvents struct {
	// Added is called with each entry's slash-separated path relative to
	// the added node ("" for the node itself) once the entry is built; an
	// error stops the import.
	Added func(path string, res AddResult, dir bool) error
	// Progress is called with a file's path and the bytes read from it
	// so far.
	Progress func(path string, bytes int64)
}

// EntryType is a directory entry's kind, numbered as Kubo's ls reports
// it (the UnixFS data types).
type EntryType int

// Entry types that ls reports.
const (
	TypeRaw       EntryType = 0 // not UnixFS, or unknown
	TypeDirectory EntryType = 1 // a directory, sharded or not
	TypeFile      EntryType = 2
	TypeSymlink   EntryType = 4
)

// DirEntry is one named link of a directory.
type DirEntry struct {
	Name   string
	Cid    cid.Cid
	Size   uint64 // a file's size in bytes; 0 for the other types
	Type   EntryType
	Target string // a symlink's target
}

// BlockPutOptions name how a raw block's CID is built.
type BlockPutOptions struct {
	Codec  string // multicodec name: "raw", "dag-pb", "dag-cbor", ...
	MhType string // multihash name: "sha2-256", ...
	MhLen  int    // -1 for the hash's default length
	Pin    bool
}

// PeerInfo is one connected peer as /api/v0/swarm/peers reports it.
type PeerInfo struct {
	ID        peer.ID
	Addr      ma.Multiaddr
	Direction string // "inbound" or "outbound"
	Latency   time.Duration
	Streams   []string // protocol IDs of the open streams; nil when unknown
}

// RangeBackend is implemented by a Backend that can be told, when a file is
// opened, which bytes the reader wants (cat's offset and length), so that
// it fetches only those. Reads outside them must still work.
type RangeBackend interface {
	NodeRange(ctx context.Context, c cid.Cid, offset, length int64) (files.Node, error)
}
