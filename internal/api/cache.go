package api

import (
	"sync"
	"time"
)

// tenantCache keeps values computed from a tenant's data (relationships,
// Consents, role privileges) on this instance. A write that changes such
// data invalidates the tenant's values at once; with a ttl, values also
// age out, which bounds how stale another instance's writes leave them.
type tenantCache[V any] struct {
	ttl time.Duration // 0: values last until invalidated
	max int           // entries kept before all are dropped

	mu  sync.Mutex
	gen map[string]uint64 // per tenant, bumped by invalidate
	m   map[string]cached[V]
}

type cached[V any] struct {
	v   V
	at  time.Time
	gen uint64
}

func newTenantCache[V any](ttl time.Duration, max int) *tenantCache[V] {
	return &tenantCache[V]{ttl: ttl, max: max, gen: map[string]uint64{}, m: map[string]cached[V]{}}
}

// get returns the tenant's value for key when it is current, and the
// tenant's generation to put a freshly computed value under.
func (tc *tenantCache[V]) get(tenant, key string) (v V, gen uint64, ok bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	gen = tc.gen[tenant]
	e, ok := tc.m[tenant+"\x00"+key]
	if !ok || e.gen != gen || tc.ttl > 0 && time.Since(e.at) >= tc.ttl {
		return v, gen, false
	}
	return e.v, gen, true
}

// put keeps v, computed at generation gen (from get): if the tenant was
// invalidated meanwhile, the next get will not return it.
func (tc *tenantCache[V]) put(tenant, key string, gen uint64, v V) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.m) >= tc.max {
		clear(tc.m)
	}
	tc.m[tenant+"\x00"+key] = cached[V]{v: v, at: time.Now(), gen: gen}
}

// invalidate drops the tenant's values.
func (tc *tenantCache[V]) invalidate(tenant string) {
	tc.mu.Lock()
	tc.gen[tenant]++
	tc.mu.Unlock()
}
