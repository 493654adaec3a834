package client_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cairnnet/cairn/shell"
	"github.com/cairnnet/cairn/shell/client"
	"github.com/cairnnet/cairn/shell/shelltest"
)

// The client reads stats/bw, sets log levels and reads status.
func TestStatsBWLogLevelStatus(t *testing.T) {
	b := shelltest.NewObserved()
	b.BW[""] = shell.Bandwidth{TotalIn: 10, TotalOut: 20, RateIn: 1, RateOut: 2}
	b.BW["/ipfs/kad/1.0.0"] = shell.Bandwidth{TotalIn: 3}
	b.TransferList = []shell.Transfer{{Cid: shelltest.RawCid([]byte("x")), Kind: "read", Bytes: 1, Size: 2, Started: time.Now()}}
	h, err := shell.New(shell.Config{}, b)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	if bw, err := c.StatsBW(ctx, ""); err != nil || bw != (client.Bandwidth{TotalIn: 10, TotalOut: 20, RateIn: 1, RateOut: 2}) {
		t.Errorf("StatsBW = %+v, %v", bw, err)
	}
	if bw, err := c.StatsBW(ctx, "/ipfs/kad/1.0.0"); err != nil || bw.TotalIn != 3 {
		t.Errorf("StatsBW(kad) = %+v, %v", bw, err)
	}
	if msg, err := c.SetLogLevel(ctx, "dht", "debug"); err != nil || msg != "Changed log level of 'dht' to 'debug'" || b.LogLevel("dht") != "debug" {
		t.Errorf("SetLogLevel = %q, %v (level %q)", msg, err, b.LogLevel("dht"))
	}
	if _, err := c.SetLogLevel(ctx, "nope", "debug"); err == nil {
		t.Error("SetLogLevel(nope) succeeded")
	}
	st, err := c.Status(ctx)
	if err != nil || st.ID != b.Self.ID.String() || st.Bandwidth == nil || st.Bandwidth.TotalOut != 20 || len(st.Transfers) != 1 || st.Transfers[0].Size != 2 || len(st.Routing) != 2 {
		t.Errorf("Status = %+v, %v", st, err)
	}
}
