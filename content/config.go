package content

import (
	"fmt"
	"time"

	chunk "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/verifcid"
	mh "github.com/multiformats/go-multihash"
)

// Provide strategies: which keys the node re-announces every
// ReprovideInterval. Whatever the strategy, content stored on the user's
// request (Import, PutBlock, Pin) is announced at once.
const (
	// StrategyRoots re-announces the roots of recursive pins and direct
	// pins only: one DHT record per pinned file, not one per 1 MiB leaf.
	StrategyRoots = "roots"
	// StrategyPinned re-announces every block under a pin.
	StrategyPinned = "pinned"
	// StrategyAll re-announces every block in the blockstore, pinned or
	// cached, and announces every block as it is written.
	StrategyAll = "all"
)

// Bounds checked by Validate.
const (
	// minChunkSize keeps the DAG from exploding into tiny blocks.
	minChunkSize = 1 << 10
	// minMaxLinks: a file node with one link per level never fills, so the
	// balanced layout would grow forever.
	minMaxLinks = 2
	// maxMaxLinks keeps a file node well under 1 MiB even with 64-byte
	// digests (about 80 bytes per link).
	maxMaxLinks = 8192
	// minReprovideInterval: boxo's reprovider waits a minute before its
	// first run anyway, and shorter cycles only flood the DHT.
	minReprovideInterval = time.Minute
	// minScrubInterval: a scrub reads every block.
	minScrubInterval = time.Minute
)

// Config is content's section of config.yaml. The defaults follow IPIP-499's
// unixfs-v1-2025 profile, so the same bytes get the same CID as in Kubo under
// that profile.
type Config struct {
	// ChunkSize is the number of file bytes per leaf block (chunk_size).
	// Default 1048576 (1 MiB); between 1 KiB and 2 MiB minus 256 bytes
	// (room for UnixFS framing under the 2 MiB Bitswap block limit).
	ChunkSize int `yaml:"chunk_size"`
	// MaxLinks is the maximum number of links per file node (max_links).
	// Default 1024; between 2 and 8192.
	MaxLinks int `yaml:"max_links"`
	// CIDVersion is the CID version of imported files (cid_version).
	// Default 1; 0 requires raw_leaves false and hash_function sha2-256.
	CIDVersion int `yaml:"cid_version"`
	// RawLeaves stores leaves as raw blocks rather than UnixFS-wrapped
	// dag-pb nodes (raw_leaves). Default true.
	RawLeaves bool `yaml:"raw_leaves"`
	// HashFunction is the multihash name used for new blocks
	// (hash_function). Default "sha2-256".
	HashFunction string `yaml:"hash_function"`
	// ReprovideInterval is the time between two re-announcements of the
	// provided keys (reprovide_interval). Default 22h, under the DHT's 48h
	// record lifetime; 0 disables reproviding; otherwise at least 1m.
	ReprovideInterval time.Duration `yaml:"reprovide_interval"`
	// ProvideStrategy picks the keys re-announced (provide_strategy):
	// "roots" (default), "pinned" or "all".
	ProvideStrategy string `yaml:"provide_strategy"`
	// StorageMax bounds the bytes of block data stored (storage_max):
	// a write that would pass it fails with ErrStorageFull, before the
	// disk fills. Default 0, unlimited.
	StorageMax uint64 `yaml:"storage_max"`
	// FastPath serves files to peers, and fetches them from peers, as
	// trustless-gateway CAR streams over libp2p (fast_path), on Kubo's
	// /ipfs/gateway protocol; peers that do not speak it get Bitswap.
	// Default true.
	FastPath bool `yaml:"fast_path"`
	// ScrubInterval is the time between two scrubs (scrub_interval): a
	// scrub re-hashes every stored block, as repo verify does, and fetches
	// each damaged one again from peers, as repo verify --repair does.
	// Default 0, never; otherwise at least 1m.
	ScrubInterval time.Duration `yaml:"scrub_interval"`
	// StageDir is where ImportCAR keeps a CAR while it checks it: the
	// repo, whose file system must hold the blocks anyway, where /tmp is
	// often a small tmpfs. Set by the peer; "" is os.TempDir.
	StageDir string `yaml:"-"`
}

// DefaultConfig returns the unixfs-v1-2025 defaults described on Config.
func DefaultConfig() Config {
	return Config{
		ChunkSize:         1 << 20,
		MaxLinks:          1024,
		CIDVersion:        1,
		RawLeaves:         true,
		HashFunction:      "sha2-256",
		ReprovideInterval: 22 * time.Hour,
		ProvideStrategy:   StrategyRoots,
		FastPath:          true,
	}
}

// Validate returns an error naming the first bad field by its config.yaml
// key, e.g. "content.chunk_size: …".
func (c Config) Validate() error {
	if err := validateChunkSize(c.ChunkSize); err != nil {
		return fieldError("chunk_size", err)
	}
	if c.MaxLinks < minMaxLinks || c.MaxLinks > maxMaxLinks {
		return fieldError("max_links", fmt.Errorf("must be between %d and %d, got %d", minMaxLinks, maxMaxLinks, c.MaxLinks))
	}
	if c.CIDVersion != 0 && c.CIDVersion != 1 {
		return fieldError("cid_version", fmt.Errorf("must be 0 or 1, got %d", c.CIDVersion))
	}
	if c.CIDVersion == 0 && c.RawLeaves {
		return fieldError("raw_leaves", fmt.Errorf("must be false with cid_version 0 (raw leaves need CIDv1)"))
	}
	code, err := hashCode(c.HashFunction)
	if err != nil {
		return fieldError("hash_function", err)
	}
	if c.CIDVersion == 0 && code != mh.SHA2_256 {
		return fieldError("hash_function", fmt.Errorf("must be sha2-256 with cid_version 0, got %q", c.HashFunction))
	}
	if c.ReprovideInterval < 0 || (c.ReprovideInterval > 0 && c.ReprovideInterval < minReprovideInterval) {
		return fieldError("reprovide_interval", fmt.Errorf("must be 0 (disabled) or at least %s, got %s", minReprovideInterval, c.ReprovideInterval))
	}
	if c.ScrubInterval < 0 || (c.ScrubInterval > 0 && c.ScrubInterval < minScrubInterval) {
		return fieldError("scrub_interval", fmt.Errorf("must be 0 (never) or at least %s, got %s", minScrubInterval, c.ScrubInterval))
	}
	switch c.ProvideStrategy {
	case StrategyRoots, StrategyPinned, StrategyAll:
	default:
		return fieldError("provide_strategy", fmt.Errorf("must be %q, %q or %q, got %q", StrategyRoots, StrategyPinned, StrategyAll, c.ProvideStrategy))
	}
	return nil
}

func fieldError(key string, err error) error {
	return fmt.Errorf("content.%s: %w", key, err)
}

// validateChunkSize is shared by Config and ImportOptions.
func validateChunkSize(n int) error {
	if n < minChunkSize || n > chunk.ChunkSizeLimit {
		return fmt.Errorf("must be between 1 KiB (%d) and 2 MiB minus 256 B of framing (%d), got %d", minChunkSize, chunk.ChunkSizeLimit, n)
	}
	return nil
}

// hashCode maps a multihash name to its code, refusing the functions that
// boxo's verifcid would reject later (insecure ones and identity, which is
// not a hash).
func hashCode(name string) (uint64, error) {
	code, ok := mh.Names[name]
	if !ok {
		return 0, fmt.Errorf("unknown multihash %q", name)
	}
	if code == mh.IDENTITY || !verifcid.DefaultAllowlist.IsAllowed(code) {
		return 0, fmt.Errorf("multihash %q is not allowed (not a secure hash)", name)
	}
	return code, nil
}
