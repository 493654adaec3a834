package packstore

import (
	"context"

	"github.com/ipfs/go-datastore"
)

// batch applies its writes on Commit, in order.
type batch struct {
	s   *Store
	ops []batchOp
}

type batchOp struct {
	key    datastore.Key
	value  []byte
	delete bool
}

// Put queues a put.
func (b *batch) Put(_ context.Context, key datastore.Key, value []byte) error {
	b.ops = append(b.ops, batchOp{key: key, value: value})
	return nil
}

// Delete queues a delete.
func (b *batch) Delete(_ context.Context, key datastore.Key) error {
	b.ops = append(b.ops, batchOp{key: key, delete: true})
	return nil
}

// Commit applies the queued writes in order.
func (b *batch) Commit(ctx context.Context) error {
	for _, op := range b.ops {
		var err error
		if op.delete {
			err = b.s.Delete(ctx, op.key)
		} else {
			err = b.s.Put(ctx, op.key, op.value)
		}
		if err != nil {
			return err
		}
	}
	b.ops = nil
	return nil
}
