package shell

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// namedMissing is an error naming a missing block, as content's reads
// return.
type namedMissing struct{ c cid.Cid }

func (e namedMissing) Error() string         { return "block " + e.c.String() + " not found" }
func (e namedMissing) MissingBlock() cid.Cid { return e.c }

// TestFetchErrorNamesTheMissingBlock: a read that times out waiting for
// one block of a file says which, besides the root.
func TestFetchErrorNamesTheMissingBlock(t *testing.T) {
	sum := func(s string) cid.Cid {
		h, _ := mh.Sum([]byte(s), mh.SHA2_256, -1)
		return cid.NewCidV1(cid.Raw, h)
	}
	root, leaf := sum("root"), sum("leaf")
	ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), timeoutKey{}, 50*time.Millisecond), time.Now())
	defer cancel()
	<-ctx.Done()

	err := fetchError(ctx, root, fmt.Errorf("read: %w", namedMissing{leaf}))
	want := fmt.Sprintf("block %s of content %s not found within 50ms", leaf, root)
	if _, msg := classify(err); msg != want {
		t.Fatalf("error %q, want %q", msg, want)
	}
	// The root itself missing reads as before.
	err = fetchError(ctx, root, namedMissing{root})
	want = fmt.Sprintf("content %s not found within 50ms", root)
	if _, msg := classify(err); msg != want {
		t.Fatalf("error %q, want %q", msg, want)
	}
}
