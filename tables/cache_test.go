package tables

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/stripeapi"
)

func sizedObject(id string, pad int) stripeapi.Object {
	return stripeapi.Object{"id": id, "object": "customer", "description": strings.Repeat("x", pad)}
}

// TestCacheStaysWithinItsByteBound files objects of many queries into a
// small cache and checks after every put that the bytes it holds, counted
// afresh from its entries, never pass the bound; that the newest query's
// entry is kept while older queries make room; and that an entry larger
// than the whole cache is refused.
func TestCacheStaysWithinItsByteBound(t *testing.T) {
	const bound = 64 << 10
	c := newQueryCache(bound)
	for pid := uint64(1); pid <= 20; pid++ {
		for k := range 10 {
			key := fmt.Sprintf("GET /v1/customers/cus_%d_%d", pid, k)
			c.put(pid, key, []stripeapi.Object{sizedObject(key, 1000+int(pid)*37+k*11)})
			if got := c.size(); got > bound {
				t.Fatalf("after pid %d key %d: cache holds %d bytes, bound %d", pid, k, got, bound)
			}
			var counted int64
			c.mu.Lock()
			for _, q := range c.queries {
				for _, el := range q.entries {
					counted += el.Value.(*cacheEntry).bytes
				}
			}
			if c.lru.Len() != entries(c) {
				t.Fatalf("the LRU list has %d entries, the queries %d", c.lru.Len(), entries(c))
			}
			c.mu.Unlock()
			if counted != c.size() {
				t.Fatalf("cache counts %d bytes, its entries hold %d", c.size(), counted)
			}
			if _, ok := c.get(pid, key); !ok {
				t.Fatalf("pid %d: the entry just filed is gone although it fits", pid)
			}
		}
	}
	if _, ok := c.get(1, "GET /v1/customers/cus_1_0"); ok {
		t.Errorf("the oldest query's entries survived %d bytes of newer ones", 20*10*1000)
	}
	huge := []stripeapi.Object{sizedObject("cus_huge", bound)}
	c.put(21, "huge", huge)
	if _, ok := c.get(21, "huge"); ok {
		t.Errorf("an entry larger than the whole cache was filed")
	}
}

func entries(c *queryCache) int {
	n := 0
	for _, q := range c.queries {
		n += len(q.entries)
	}
	return n
}

// TestCacheEvictsTheLeastRecentlyUsed checks that when the bound is
// reached the entry used longest ago goes, not one just read.
func TestCacheEvictsTheLeastRecentlyUsed(t *testing.T) {
	one := objectSize(sizedObject("cus_0", 1000)) + int64(len("k0")) + entryOverhead
	c := newQueryCache(3 * one)
	put := func(k string) { c.put(1, k, []stripeapi.Object{sizedObject("cus_"+k[1:], 1000)}) }
	put("k0")
	put("k1")
	put("k2")
	if _, ok := c.get(1, "k0"); !ok { // k0 is now the most recently used
		t.Fatal("k0 missing before the cache was full")
	}
	put("k3")
	_, has0 := c.get(1, "k0")
	_, has1 := c.get(1, "k1")
	_, has3 := c.get(1, "k3")
	if !has0 || has1 || !has3 {
		t.Errorf("after filling: k0 %v, k1 %v, k3 %v; want k1 (least recently used) evicted, k0 and k3 kept", has0, has1, has3)
	}
}

// TestCacheFreesAQueryWhenItsContextEnds checks the end-of-query hook: the
// engine cancels a query's context when it ends, and its entries go then,
// while another query's stay.
func TestCacheFreesAQueryWhenItsContextEnds(t *testing.T) {
	c := newQueryCache(1 << 20)
	queryCtx := func(pid uint64) (*sql.Context, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		return sql.NewContext(ctx, sql.WithPid(pid)), cancel
	}
	ctx1, end1 := queryCtx(1)
	ctx2, end2 := queryCtx(2)
	defer end2()
	c.begin(ctx1)
	c.begin(ctx2)
	c.put(1, "a", []stripeapi.Object{sizedObject("cus_a", 100)})
	c.put(2, "b", []stripeapi.Object{sizedObject("cus_b", 100)})
	one := objectSize(sizedObject("cus_b", 100)) + int64(len("b")) + entryOverhead
	end1()
	// The hook runs on its own goroutine once the context is done.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := c.get(1, "a"); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("query 1's entries outlived its context")
		}
		time.Sleep(time.Millisecond)
	}
	if _, ok := c.get(2, "b"); !ok {
		t.Error("query 2's entry went with query 1")
	}
	if got := c.size(); got != one {
		t.Errorf("cache holds %d bytes after query 1 ended, want query 2's %d", got, one)
	}
}
