package peer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/libp2p/go-libp2p/core/pnet"
	ma "github.com/multiformats/go-multiaddr"
)

// SwarmKeyFile is the private network's pre-shared key inside a repo, in
// Kubo's format, so a key made by either works in both:
//
//	/key/swarm/psk/1.0.0/
//	/base16/
//	<64 hex digits>
const SwarmKeyFile = "swarm.key"

// GenerateSwarmKey writes a new random swarm key into the repo at dir
// (mode 0600). It refuses to replace one: that would cut the peer off
// from the network that shares the old key.
func GenerateSwarmKey(dir string) error {
	path := filepath.Join(dir, SwarmKeyFile)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists; remove it first to make a new private network", path)
	}
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return fmt.Errorf("generate swarm key: %w", err)
	}
	data := []byte("/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(key[:]) + "\n")
	return writeFileSync(path, data, 0o600)
}

// LoadSwarmKey reads the repo's swarm key. No repo or no key means a
// public network (nil, nil).
func LoadSwarmKey(dir string) (pnet.PSK, error) {
	if dir == "" {
		return nil, nil
	}
	path := filepath.Join(dir, SwarmKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read swarm key: %w", err)
	}
	psk, err := pnet.DecodeV1PSK(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s is not a swarm key (want /key/swarm/psk/1.0.0/, /base16/, 64 hex digits): %w", path, err)
	}
	return psk, nil
}

// privateListenAddrs keeps the listen addresses a private network can use.
// go-libp2p's pre-shared key wraps a TCP stream; QUIC (and WebTransport and
// WebRTC, built on UDP) encrypt below any wrapper, so a swarm key cannot
// fence them. Rather than refuse the default config (which lists QUIC),
// Cairn drops the UDP addresses and says so: a node with a swarm key listens
// on TCP only. It is an error only when nothing is left.
func privateListenAddrs(listen []string) ([]string, error) {
	var kept, dropped []string
	for _, s := range listen {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("swarm.listen: bad multiaddr %q: %w", s, err)
		}
		if _, err := m.ValueForProtocol(ma.P_UDP); err == nil {
			dropped = append(dropped, s)
			continue
		}
		kept = append(kept, s)
	}
	if len(dropped) > 0 {
		slog.Warn("private network (swarm.key): QUIC cannot carry a pre-shared key, listening on TCP only", "dropped", dropped)
	} else {
		slog.Info("private network (swarm.key): listening on TCP only")
	}
	if len(kept) == 0 && len(listen) > 0 {
		return nil, fmt.Errorf("swarm.listen: a private network (swarm.key) needs a TCP address, and every configured address is UDP (QUIC): %v", listen)
	}
	return kept, nil
}
