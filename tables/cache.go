package tables

import (
	"container/list"
	"context"
	"encoding/json"
	"sync"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/stripeapi"
)

// The engine re-runs the inner side of a nested-loop join once per outer
// row (gms-notes §2.5), and a join whose outer side carries the inner
// objects expanded looks each of them up right after reading it. The
// per-query cache answers those lookups without another Stripe call. It is
// keyed by the query's process id, so one query never sees another's
// results.
//
// Memory is bounded two ways. Entries live only as long as their query:
// the engine cancels a query's context when the query ends (ProcessList
// EndQuery), and the cache drops the query's entries then. And all entries
// together hold at most maxCacheBytes of objects (by an estimate made once,
// when an entry is filed): a put that would pass the bound evicts the
// least recently used entries, of any query. Both uses above need only
// recent entries (the inner side's list just read, the object expanded on
// the row just read), so a bound far smaller than a large join's objects
// still answers its lookups; an evicted entry costs one repeated call. A
// context without a process id (pid 0: not from a server connection) gets
// no cache, since its queries cannot be told apart; at most cachedQueries
// queries are kept, for contexts that never end (the engine in-process).
const (
	cachedQueries = 32
	// maxCachedObjects bounds one list's filed result: a list longer than
	// that is a scan, which a join does not repeat.
	maxCachedObjects = 1000
	// maxCacheBytes bounds the whole cache: two inner lists of
	// maxCachedObjects objects of about 3 KB, small next to the 64 MB a
	// query may use above idle. A join of 100k invoices expanding 20k
	// customers sends only the invoices' pages with it, 52 MB above idle.
	maxCacheBytes = 8 << 20
)

type queryCache struct {
	maxBytes int64

	mu      sync.Mutex
	queries map[uint64]*cachedQuery
	order   []uint64  // oldest query first
	lru     list.List // of *cacheEntry, most recently used first
	bytes   int64     // of all entries
}

// cachedQuery is one query's entries.
type cachedQuery struct {
	entries map[string]*list.Element
	stop    func() bool // unregisters the end-of-query hook
}

type cacheEntry struct {
	pid   uint64
	key   string
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
	el, ok := q.entries[key]
	if !ok {
		return nil, false
	}
	c.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).objs, true
}

// put files objs under key for query pid. The first result filed for a key
// stays: within a query a call's answer does not change, and an expanded
// object filed once per row that carries it is sized only once.
func (c *queryCache) put(pid uint64, key string, objs []stripeapi.Object) {
	if pid == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.queries[pid]; ok {
		if el, filed := q.entries[key]; filed {
			c.lru.MoveToFront(el)
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
		c.evict(c.lru.Back())
	}
	q := c.query(pid)
	q.entries[key] = c.lru.PushFront(&cacheEntry{pid: pid, key: key, objs: objs, bytes: size})
	c.bytes += size
}

// evict removes one entry. c.mu is held.
func (c *queryCache) evict(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	c.bytes -= e.bytes
	delete(c.queries[e.pid].entries, e.key)
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
	q := &cachedQuery{entries: make(map[string]*list.Element)}
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
	for _, el := range q.entries {
		c.bytes -= c.lru.Remove(el).(*cacheEntry).bytes
	}
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

// Rough costs, in bytes, of the Go values a decoded object is made of,
// chosen so that the estimate of a decoded customer (about 3 KB) matches
// the heap it takes.
const (
	entryOverhead = 128 // list element, map slot and slice header of an entry
	valueOverhead = 16  // an interface value
	mapOverhead   = 96  // map header and groups
	slotOverhead  = 48  // per map entry: key header, value, group share
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
