package tables

import (
	"sync"

	"github.com/stripesql/stripesql/stripeapi"
)

// The engine re-runs the inner side of a nested-loop join once per outer
// row (gms-notes §2.5). The per-query cache answers those repeats without
// another Stripe call. It is keyed by the query's process id, so one
// query never sees another's results, and it keeps only the most recent
// queries and only small results, so memory stays bounded however large a
// scan is. A context without a process id (pid 0: not from a server
// connection) gets no cache, since its queries cannot be told apart.
const (
	cachedQueries    = 32
	maxCachedObjects = 1000
)

type queryCache struct {
	mu      sync.Mutex
	queries map[uint64]map[string][]stripeapi.Object
	order   []uint64 // oldest first
}

func newQueryCache() *queryCache {
	return &queryCache{queries: make(map[uint64]map[string][]stripeapi.Object)}
}

func (c *queryCache) get(pid uint64, key string) ([]stripeapi.Object, bool) {
	if pid == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	objs, ok := c.queries[pid][key]
	return objs, ok
}

func (c *queryCache) put(pid uint64, key string, objs []stripeapi.Object) {
	if pid == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queries[pid]
	if !ok {
		if len(c.order) == cachedQueries {
			delete(c.queries, c.order[0])
			c.order = c.order[1:]
		}
		q = make(map[string][]stripeapi.Object)
		c.queries[pid] = q
		c.order = append(c.order, pid)
	}
	q[key] = objs
}
