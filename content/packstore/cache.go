package packstore

import (
	"container/list"
	"sync"
)

// Small values — directory and file-root nodes, small files — are kept in
// memory once written or read. Direct I/O passes the page cache by, so
// without this every read of one waited on the device: a 1 KiB file added
// before a 1 GiB one took about 1–5 ms longer to reach a peer than with
// flatfs, whose pages were still cached. Large values are left out so
// that one big file streaming through does not flush the small ones.
const cacheMaxValue = 64 << 10

// smallCache is a least-recently-used cache of small values by key.
type smallCache struct {
	mu    sync.Mutex
	max   int // bytes held at most
	size  int
	order *list.List // of *cached, most recent first
	byKey map[string]*list.Element
}

type cached struct {
	key   string
	value []byte
}

func newSmallCache(max int) *smallCache {
	return &smallCache{max: max, order: list.New(), byKey: make(map[string]*list.Element)}
}

// get returns a copy of key's value, if held.
func (c *smallCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(e)
	return append([]byte(nil), e.Value.(*cached).value...), true
}

// put keeps a copy of value under key if it is small.
func (c *smallCache) put(key string, value []byte) {
	if len(value) > cacheMaxValue || len(value) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
	c.byKey[key] = c.order.PushFront(&cached{key, append([]byte(nil), value...)})
	c.size += len(value)
	for c.size > c.max {
		c.removeLocked(c.order.Back().Value.(*cached).key)
	}
}

func (c *smallCache) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

func (c *smallCache) removeLocked(key string) {
	if e, ok := c.byKey[key]; ok {
		c.size -= len(e.Value.(*cached).value)
		c.order.Remove(e)
		delete(c.byKey, key)
	}
}
