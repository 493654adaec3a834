package replication

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"

	"github.com/ipfs/go-cid"
)

// A proof of holding: the asker, which has the DAG, picks a block of it
// at random and a fresh random nonce; the holder answers
// SHA-256(nonce || the block's bytes). Without the bytes there is no
// answer, and the nonce keeps an old answer from serving twice.

// nonceSize is the length of the nonces this peer sends.
const nonceSize = 16

// maxDepth bounds the walk to a random block, whatever links a DAG has.
const maxDepth = 64

// challenge is one proof request: a block of root and a nonce.
type challenge struct {
	Block cid.Cid
	Nonce []byte
}

// newChallenge picks a block of root's DAG from s: a random walk from the
// root down to a leaf, each step to a link chosen at random.
func newChallenge(ctx context.Context, s Store, root cid.Cid) (challenge, error) {
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return challenge{}, err
	}
	c := root
	for range maxDepth {
		links, err := s.Links(ctx, c)
		if err != nil {
			return challenge{}, fmt.Errorf("pick a block of %s: %w", root, err)
		}
		if len(links) == 0 {
			break
		}
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(links))))
		if err != nil {
			return challenge{}, err
		}
		c = links[i.Int64()]
	}
	return challenge{Block: c, Nonce: nonce}, nil
}

// prove answers a challenge from the local store.
func prove(ctx context.Context, s Store, ch challenge) ([]byte, error) {
	data, err := s.Block(ctx, ch.Block)
	if err != nil {
		return nil, err
	}
	return proofOf(ch.Nonce, data), nil
}

func proofOf(nonce, data []byte) []byte {
	h := sha256.New()
	h.Write(nonce)
	h.Write(data)
	return h.Sum(nil)
}
