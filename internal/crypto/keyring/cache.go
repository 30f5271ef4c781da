package keyring

import (
	"container/list"
	"sync"
)

// DefaultCacheSize is the number of unwrapped keys a Keyring keeps when
// Options.CacheSize is zero: enough for every active patient of a large
// tenant, at about 1.1 KB per key (some 110 MB when full, on amd64).
const DefaultCacheSize = 100_000

// nameKey indexes the cache by tenant and key name.
type nameKey struct{ tenant, name string }

// keyCache is a bounded LRU of unwrapped keys, indexed by id and by
// (tenant, name). It owns its maps and list; mu guards all of them, so
// it is safe for concurrent use. Cached keys are immutable.
type keyCache struct {
	mu     sync.Mutex
	max    int
	lru    *list.List // of *key, most recently used first
	byID   map[string]*list.Element
	byName map[nameKey]*list.Element
}

func newKeyCache(max int) *keyCache {
	return &keyCache{
		max:    max,
		lru:    list.New(),
		byID:   make(map[string]*list.Element),
		byName: make(map[nameKey]*list.Element),
	}
}

// get returns the key with that id, or nil.
func (c *keyCache) get(id string) *key {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*key)
}

// getByName returns the tenant's key with that name, or nil.
func (c *keyCache) getByName(tenant, name string) *key {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byName[nameKey{tenant, name}]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*key)
}

// add caches k, making it the key for its (tenant, name), and evicts the
// least recently used keys beyond the bound.
func (c *keyCache) add(k *key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	nk := nameKey{k.tenant, k.name}
	if e, ok := c.byID[k.id]; ok {
		if old := e.Value.(*key); old.tenant == k.tenant && old.name == k.name {
			c.lru.MoveToFront(e)
			c.byName[nk] = e
			return
		}
		c.removeLocked(e) // same id, other row: keep only the newer
	}
	e := c.lru.PushFront(k)
	c.byID[k.id] = e
	c.byName[nk] = e
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *keyCache) removeLocked(e *list.Element) {
	k := c.lru.Remove(e).(*key)
	delete(c.byID, k.id)
	nk := nameKey{k.tenant, k.name}
	if c.byName[nk] == e {
		delete(c.byName, nk)
	}
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
