package interop

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairnnet/cairn/content/trustless"
	"github.com/cairnnet/cairn/internal/lattice"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// TestLatticeCARsMatchKubo: on DAGs whose nodes each link twice to the
// one below (2^depth paths over depth+1 blocks), Kubo's gateway and
// Cairn's send the same CARs byte for byte: dag-scope=all on a 40-level
// lattice at once under dups=n (each block once, subtrees met again
// skipped), dups=y and dag-scope=entity on shallower ones; Cairn's
// verifying reader accepts Kubo's deduplicated streams; and `dag export`
// agrees.
func TestLatticeCARsMatchKubo(t *testing.T) {
	t.Parallel()
	k := startKubo(t)
	c := startCairn(t)
	path, deep, shallow, file := latticeCAR(t)
	k.ok(t, time.Minute, "dag", "import", path)
	c.ok(t, time.Minute, "dag", "import", path)

	dupsN := "application/vnd.ipld.car; version=1; order=dfs; dups=n"
	dupsY := "application/vnd.ipld.car; version=1; order=dfs; dups=y"
	requests := []struct {
		name   string
		root   cid.Cid
		query  string
		accept string
		params trustless.Params
	}{
		{"dir40_all_dups_n", deep, "?format=car&dag-scope=all", dupsN, trustless.Params{Scope: gateway.DagScopeAll}},
		{"dir9_all_dups_y", shallow, "?format=car&dag-scope=all", dupsY, trustless.Params{Scope: gateway.DagScopeAll, Dups: true}},
		{"file12_entity_dups_n", file, "?format=car&dag-scope=entity", dupsN, trustless.Params{Scope: gateway.DagScopeEntity}},
		{"file12_range_dups_n", file, "?format=car&dag-scope=entity&entity-bytes=1000:3000", dupsN,
			trustless.Params{Scope: gateway.DagScopeEntity, From: 1000, To: 3000, HasTo: true}},
		{"file12_range_dups_y", file, "?format=car&dag-scope=entity&entity-bytes=1000:3000", dupsY,
			trustless.Params{Scope: gateway.DagScopeEntity, From: 1000, To: 3000, HasTo: true, Dups: true}},
	}
	for _, rq := range requests {
		t.Run(rq.name, func(t *testing.T) {
			url := "/ipfs/" + rq.root.String() + rq.query
			kuboBody, kuboType := gatewayGet(t, "Kubo's gateway", k.gatewayURL(t)+url, rq.accept)
			cairnBody, _ := gatewayGet(t, "Cairn's gateway", c.gatewayURL(t)+url, rq.accept)
			if cairnBody != kuboBody {
				t.Fatalf("Cairn sent %d bytes (%.12s), Kubo %d bytes (%.12s)",
					len(cairnBody), sha([]byte(cairnBody)), len(kuboBody), sha([]byte(kuboBody)))
			}
			n := 0
			err := trustless.ReadCAR(strings.NewReader(kuboBody), rq.root, rq.params, func(trustless.Block) error { n++; return nil })
			if err != nil {
				t.Fatalf("Cairn's reader refuses Kubo's CAR (%s, %d bytes) after %d blocks: %v", kuboType, len(kuboBody), n, err)
			}
		})
	}
	t.Run("dag_export", func(t *testing.T) {
		got := c.ok(t, time.Minute, "dag", "export", deep.String())
		want := k.ok(t, time.Minute, "dag", "export", deep.String())
		if got != want {
			t.Fatalf("dag export: Cairn's CAR (%d bytes, %.12s) differs from Kubo's (%d bytes, %.12s)",
				len(got), sha([]byte(got)), len(want), sha([]byte(want)))
		}
	})
}

// latticeCAR writes a CAR holding a 40-level and a 9-level directory
// lattice and a 12-level file lattice (4 KiB), each a root, and returns
// its path and the three roots.
func latticeCAR(t *testing.T) (path string, deep, shallow, file cid.Cid) {
	t.Helper()
	ctx := context.Background()
	bs := blockstore.NewBlockstore(dssync.MutexWrap(datastore.NewMapDatastore()))
	dag := merkledag.NewDAGService(blockservice.New(bs, nil))
	var err error
	if deep, err = lattice.Dir(ctx, dag, 40); err != nil {
		t.Fatal(err)
	}
	if shallow, err = lattice.Dir(ctx, dag, 9); err != nil {
		t.Fatal(err)
	}
	if file, err = lattice.File(ctx, dag, 12); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := storage.NewWritable(&buf, []cid.Cid{deep, shallow, file}, car.WriteAsCarV1(true))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := bs.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		b, err := bs.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Put(ctx, b.Cid().KeyString(), b.RawData()); err != nil {
			t.Fatal(err)
		}
	}
	path = filepath.Join(t.TempDir(), "lattice.car")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, deep, shallow, file
}
