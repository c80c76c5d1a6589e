package tables

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/rangescan"
	"github.com/stripesql/stripesql/stripeapi"
)

// maxConcurrentLists caps the lists of one fan-out or union read at once.
// Each list may itself be a range scan with readers of its own; the
// client's limiters pace them all.
const maxConcurrentLists = 16

// listBatch is up to a page of one list's objects, or the error that ends
// the read.
type listBatch struct {
	objs []stripeapi.Object
	err  error
}

// concurrentLists reads the lists that lists yields, several at once, and
// yields their objects in the order they arrive: the lists of a fan-out
// (one per parent, per test clock) or the branches of a union. A fan-out
// waits a round trip per parent when its lists are read one after another,
// however high the rate limit; reading width() of them at once lets the
// rate limit, not the latency, set the pace. Memory stays bounded: each
// list hands over a page at a time, and a list waits while the consumer
// has maxConcurrentLists pages still to take.
//
// Rows are those of reading the lists in turn: every list is read to its
// end exactly once, and a union's shared seenIDs drops an object two
// branches found, whichever came first.
type concurrentLists struct {
	ctx   context.Context
	lists func() (objects, error) // the next list; io.EOF after the last
	width func() int              // how many lists to read at once now

	start sync.Once
	out   chan listBatch
	stop  chan struct{}
	halt  sync.Once
	buf   []stripeapi.Object
	i     int
	err   error

	mu      sync.Mutex
	cond    *sync.Cond
	running int
}

func newConcurrentLists(ctx context.Context, lists func() (objects, error), width func() int) *concurrentLists {
	c := &concurrentLists{ctx: ctx, lists: lists, width: width,
		out: make(chan listBatch, maxConcurrentLists), stop: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *concurrentLists) next() (stripeapi.Object, error) {
	// Nothing is sent before the engine asks for a row, or early says
	// to begin.
	c.early()
	for c.i >= len(c.buf) {
		if c.err != nil {
			return nil, c.err
		}
		b, ok := <-c.out
		switch {
		case !ok:
			c.err = io.EOF
			if err := c.ctx.Err(); err != nil {
				c.err = err
			}
		case b.err != nil:
			c.err = b.err
			c.end()
		default:
			c.buf, c.i = b.objs, 0
		}
	}
	c.i++
	return c.buf[c.i-1], nil
}

// early starts reading the lists before the first next.
func (c *concurrentLists) early() {
	c.start.Do(func() { go c.dispatch() })
}

// end stops the dispatcher and the readers: no list is started after it,
// and readers stop at their next page.
func (c *concurrentLists) end() {
	c.halt.Do(func() {
		close(c.stop)
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
}

func (c *concurrentLists) stopped() bool {
	select {
	case <-c.stop:
		return true
	case <-c.ctx.Done():
		return true
	default:
		return false
	}
}

// dispatch starts a reader per list, at most width() at a time, and closes
// out once every reader is done.
func (c *concurrentLists) dispatch() {
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		close(c.out)
	}()
	stopWaiting := context.AfterFunc(c.ctx, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer stopWaiting()
	for {
		c.mu.Lock()
		for c.running >= max(1, c.width()) && !c.stopped() {
			c.cond.Wait()
		}
		c.mu.Unlock()
		if c.stopped() {
			return
		}
		l, err := c.lists()
		if err == io.EOF {
			return
		}
		if err != nil {
			c.send(listBatch{err: err})
			return
		}
		c.mu.Lock()
		c.running++
		c.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.read(l)
			c.mu.Lock()
			c.running--
			c.cond.Broadcast()
			c.mu.Unlock()
		}()
	}
}

// read hands one list's objects over a page at a time.
func (c *concurrentLists) read(l objects) {
	batch := make([]stripeapi.Object, 0, estimatedPageRows)
	for {
		obj, err := l.next()
		if err == io.EOF {
			if len(batch) > 0 {
				c.send(listBatch{objs: batch})
			}
			return
		}
		if err != nil {
			c.send(listBatch{err: err})
			return
		}
		batch = append(batch, obj)
		if len(batch) == estimatedPageRows {
			if !c.send(listBatch{objs: batch}) {
				return
			}
			batch = make([]stripeapi.Object, 0, estimatedPageRows)
		}
	}
}

func (c *concurrentLists) send(b listBatch) bool {
	select {
	case c.out <- b:
		return true
	case <-c.stop:
		return false
	case <-c.ctx.Done():
		return false
	}
}

// listsAtOnce is how many lists of path to read at once: as many as the
// rate and the latency seen so far keep busy (rate × latency × 1.5, as a
// range scan's readers), at least 1, at most maxConcurrentLists. Before
// the first answer the latency is unknown and one list is read; the width
// grows as answers come.
func (d *Database) listsAtOnce(path string) func() int {
	return func() int {
		rate := d.client.RateFor(http.MethodGet, path)
		lat := d.client.LatencyOf(http.MethodGet, path)
		return max(1, rangescan.Concurrency(rate, lat, maxConcurrentLists))
	}
}

// fullPages reports that every list of a plan reads pages of 100: no LIMIT
// shrank them. A LIMIT that did reads lazily, one list after another, so
// that it stops as soon as it has its rows.
func fullPages(p pushdown.Plan) bool {
	for _, c := range p.Calls {
		for _, prm := range c.Params {
			if prm.Key == "limit" {
				if n, err := strconv.Atoi(prm.Value); err != nil || n < estimatedPageRows {
					return false
				}
			}
		}
	}
	for _, also := range p.Also {
		if !fullPages(also) {
			return false
		}
	}
	return p.Parent == nil || fullPages(*p.Parent)
}

// fullPage is fullPages for one call.
func fullPage(c pushdown.Call) bool {
	return fullPages(pushdown.Plan{Calls: []pushdown.Call{c}})
}

// listThenAlso reads a scan's list, lazily, as the engine asks for rows,
// then the reads the plan adds for test clocks (also). Those start early,
// in the background, once the list proves long (its scan went concurrent):
// they then overlap the list instead of adding their round trips after it.
// A short list, which a LIMIT may stop within a page or two, is followed by
// them as before, and only if the engine asks for more.
type listThenAlso struct {
	list      objects
	also      *concurrentLists
	listEnded bool
}

func (l *listThenAlso) next() (stripeapi.Object, error) {
	if !l.listEnded {
		obj, err := l.list.next()
		if err != io.EOF {
			return obj, err
		}
		l.listEnded = true
	}
	return l.also.next()
}
