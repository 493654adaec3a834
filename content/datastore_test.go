package content

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/go-datastore"
	flatfs "github.com/ipfs/go-ds-flatfs"
)

// A new repo keeps blocks in packs; a repo made before packs keeps its
// flatfs, and what it held stays readable.
func TestDatastoreKeepsTheRepoBlockLayout(t *testing.T) {
	ctx := t.Context()
	key := datastore.NewKey("/blocks/CIQEXAMPLE")
	for _, legacy := range []bool{false, true} {
		dir := t.TempDir()
		if legacy {
			fs, err := flatfs.CreateOrOpen(filepath.Join(dir, blocksDir), flatfs.IPFS_DEF_SHARD, false)
			if err != nil {
				t.Fatal(err)
			}
			fs.Close()
		}
		for round := range 2 {
			ds, err := OpenDatastore(dir, true)
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				if err := ds.Put(ctx, key, []byte("block")); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := ds.Get(ctx, key); err != nil || string(got) != "block" {
				t.Fatalf("legacy=%v round %d: block reads %q, %v", legacy, round, got, err)
			}
			if err := ds.Close(); err != nil {
				t.Fatal(err)
			}
		}
		_, packsErr := os.Stat(filepath.Join(dir, packsDir))
		if legacy == (packsErr == nil) {
			t.Fatalf("legacy=%v: packs directory present=%v", legacy, packsErr == nil)
		}
	}
}
