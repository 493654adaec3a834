package client_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

func TestStatsBitswapAndFastPath(t *testing.T) {
	b := shelltest.New()
	want := shelltest.RawCid([]byte("wanted"))
	b.Bitswap = shell.BitswapStats{Wantlist: []cid.Cid{want}, BlocksReceived: 4, DataReceived: 1 << 20, BlocksSent: 1, DataSent: 100}
	b.FastPath = shell.FastPathStats{Fetches: 2, FilesFetched: 1, FellBack: 1, BytesServed: 5}
	c := connect(t, shell.Config{}, b)
	ctx := context.Background()

	bs, err := c.StatsBitswap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs.Wantlist) != 1 || !bs.Wantlist[0].Equals(want) || bs.Peers == nil ||
		bs.BlocksReceived != 4 || bs.DataReceived != 1<<20 || bs.BlocksSent != 1 || bs.DataSent != 100 {
		t.Fatalf("StatsBitswap = %+v", bs)
	}
	fp, err := c.StatsFastPath(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if fp != client.FastPathStats(b.FastPath) {
		t.Fatalf("StatsFastPath = %+v, want %+v", fp, b.FastPath)
	}

	b.BitswapErr = fmt.Errorf("bitswap stats: %w", shell.ErrOffline)
	if _, err := c.StatsBitswap(ctx); err == nil || !strings.Contains(err.Error(), "unable to run offline") {
		t.Fatalf("StatsBitswap offline: %v", err)
	}
}
