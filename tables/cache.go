package tables

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/stripeapi"
)

// The engine re-runs the inner side of a nested-loop join once per outer
// row (gms-notes §2.5). The per-query cache answers those repeats without
// another Stripe call. It is keyed by the query's process id, so one
// query never sees another's results.
//
// Memory is bounded two ways. Entries live only as long as their query:
// the engine cancels a query's context when the query ends (ProcessList
// EndQuery), and the cache drops the query's entries then. And all entries
// together hold at most maxCacheBytes of objects (by an estimate made once,
// when an entry is filed); a put that would pass the bound first evicts
// the oldest other queries, and is refused if the query alone would pass
// it, which costs only a repeated call later. A context without a process
// id (pid 0: not from a server connection) gets no cache, since its
// queries cannot be told apart; at most cachedQueries queries are kept, for
// contexts that never end (the engine run in-process).
const (
	cachedQueries = 32
	// maxCachedObjects bounds one list's filed result: a list longer than
	// that is a scan, which a join does not repeat.
	maxCachedObjects = 1000
	// maxCacheBytes bounds the whole cache: enough for the expanded parents
	// of a large join (thousands of objects of a few KB), small next to
	// the 64 MB a streamed query may use above idle.
	maxCacheBytes = 24 << 20
)

type queryCache struct {
	maxBytes int64

	mu      sync.Mutex
	queries map[uint64]*cachedQuery
	order   []uint64 // oldest first
	bytes   int64    // of all entries
}

// cachedQuery is one query's entries.
type cachedQuery struct {
	entries map[string]cacheEntry
	bytes   int64
	stop    func() bool // unregisters the end-of-query hook
}

type cacheEntry struct {
	objs  []stripeapi.Object
	bytes int64
}

func newQueryCache(maxBytes int64) *queryCache {
	return &queryCache{maxBytes: maxBytes, queries: make(map[uint64]*cachedQuery)}
}

// begin registers ctx's query, so that its entries are dropped when ctx
// ends. It is called when the query first reads a table; entries filed
// for a query never begun are dropped only by the bounds.
func (c *queryCache) begin(ctx *sql.Context) {
	pid := ctx.Pid()
	if pid == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.query(pid)
	if q.stop == nil {
		q.stop = context.AfterFunc(ctx, func() { c.end(pid) })
	}
}

// end drops the entries of query pid.
func (c *queryCache) end(pid uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(pid)
}

func (c *queryCache) get(pid uint64, key string) ([]stripeapi.Object, bool) {
	if pid == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	q, ok := c.queries[pid]
	if !ok {
		return nil, false
	}
	e, ok := q.entries[key]
	return e.objs, ok
}

// put files objs under key for query pid. The first result filed for a key
// stays: within a query a call's answer does not change, and an expanded
// parent filed once per child is sized only once.
func (c *queryCache) put(pid uint64, key string, objs []stripeapi.Object) {
	if pid == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.queries[pid]; ok {
		if _, filed := q.entries[key]; filed {
			return
		}
	}
	size := int64(len(key)) + entryOverhead
	for _, o := range objs {
		size += objectSize(o)
	}
	if size > c.maxBytes {
		return
	}
	for c.bytes+size > c.maxBytes {
		victim := uint64(0)
		for _, p := range c.order {
			if p != pid && c.queries[p].bytes > 0 {
				victim = p
				break
			}
		}
		if victim == 0 {
			return // this query alone fills the cache
		}
		c.drop(victim)
	}
	q := c.query(pid)
	q.entries[key] = cacheEntry{objs: objs, bytes: size}
	q.bytes += size
	c.bytes += size
}

// query returns pid's entries, making them if need be (and forgetting the
// oldest query if cachedQueries are kept). c.mu is held.
func (c *queryCache) query(pid uint64) *cachedQuery {
	if q, ok := c.queries[pid]; ok {
		return q
	}
	if len(c.order) >= cachedQueries {
		c.drop(c.order[0])
	}
	q := &cachedQuery{entries: make(map[string]cacheEntry)}
	c.queries[pid] = q
	c.order = append(c.order, pid)
	return q
}

// drop forgets query pid. c.mu is held.
func (c *queryCache) drop(pid uint64) {
	q, ok := c.queries[pid]
	if !ok {
		return
	}
	if q.stop != nil {
		q.stop()
	}
	c.bytes -= q.bytes
	delete(c.queries, pid)
	for i, p := range c.order {
		if p == pid {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

// size reports the bytes the cache holds, for tests.
func (c *queryCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Rough costs, in bytes, of the Go values a decoded object is made of: the
// estimate need only be proportional to what the objects hold, so that
// the bound means what it says to within a small factor.
const (
	entryOverhead = 64 // map slot and slice header of an entry
	valueOverhead = 16 // an interface value
	mapOverhead   = 48 // map header
	slotOverhead  = 32 // per map entry: key header, value, bucket share
)

// objectSize estimates the memory a decoded object holds.
func objectSize(o stripeapi.Object) int64 {
	return valueSize(map[string]any(o))
}

func valueSize(v any) int64 {
	switch x := v.(type) {
	case string:
		return valueOverhead + int64(len(x))
	case json.Number:
		return valueOverhead + int64(len(x))
	case map[string]any:
		n := int64(mapOverhead)
		for k, e := range x {
			n += slotOverhead + int64(len(k)) + valueSize(e)
		}
		return n
	case stripeapi.Object:
		return valueSize(map[string]any(x))
	case []any:
		n := int64(24)
		for _, e := range x {
			n += valueSize(e)
		}
		return n
	}
	return valueOverhead
}
