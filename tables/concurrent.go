package tables

import (
	"context"

	"github.com/dolthub/go-mysql-server/sql"
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

// goroutineCount counts running goroutines: those of the concurrent list
// reads of a Database (their dispatchers and readers), so that a test can
// tell that a read left none behind once closed, and wait for them.
type goroutineCount struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int
}

func newGoroutineCount() *goroutineCount {
	g := &goroutineCount{}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// goroutine runs f in a new goroutine, counted while it runs.
func (g *goroutineCount) goroutine(f func()) {
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	go func() {
		defer func() {
			g.mu.Lock()
			g.n--
			g.cond.Broadcast()
			g.mu.Unlock()
		}()
		f()
	}()
}

// running is the number of counted goroutines running now.
func (g *goroutineCount) running() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// wait waits until no counted goroutine runs.
func (g *goroutineCount) wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.n > 0 {
		g.cond.Wait()
	}
}

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
	// ctx is the query's, cancelled by close: the lists are made with it,
	// so closing stops their requests in flight too.
	ctx    *sql.Context
	cancel context.CancelFunc
	lists  func(ctx *sql.Context) (objects, error) // the next list; io.EOF after the last
	width  func() int                              // how many lists to read at once now
	// after, if set, runs once the dispatcher is done with lists (or at
	// close, if it never started): it closes what lists reads from.
	after func()
	g     *goroutineCount // counts the dispatcher and the readers

	start   sync.Once
	out     chan listBatch
	stop    chan struct{}
	halt    sync.Once
	done    chan struct{} // closed once the dispatcher and its readers are gone
	closing sync.Once
	buf     []stripeapi.Object
	i       int
	err     error

	mu      sync.Mutex
	cond    *sync.Cond
	running int
}

func newConcurrentLists(ctx *sql.Context, g *goroutineCount, lists func(*sql.Context) (objects, error), width func() int) *concurrentLists {
	sub, cancel := ctx.NewSubContext()
	c := &concurrentLists{ctx: sub, cancel: cancel, g: g, lists: lists, width: width,
		out: make(chan listBatch, maxConcurrentLists), stop: make(chan struct{}), done: make(chan struct{})}
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
	c.start.Do(func() { c.g.goroutine(c.dispatch) })
}

// close stops the read and waits for it: the dispatcher starts no list,
// the requests in flight are cancelled, each reader closes its list, and
// what the lists were read from is closed. Once it returns, nothing of the
// read sends a request or touches the session. A LIMIT or an EXISTS that
// has its rows closes the read long before its lists run out.
func (c *concurrentLists) close() {
	c.closing.Do(func() {
		c.end()
		c.cancel()
		c.start.Do(func() { // never started: nothing to wait for
			if c.after != nil {
				c.after()
			}
			close(c.done)
		})
		<-c.done
	})
}

// end stops the dispatcher and the readers: no list is started after it,
// and readers stop before their next object.
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
		if c.after != nil {
			c.after()
		}
		close(c.out)
		close(c.done)
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
		l, err := c.lists(c.ctx)
		if err == io.EOF {
			return
		}
		if err != nil {
			c.send(listBatch{err: err})
			return
		}
		if c.stopped() { // closed while lists waited for its parent
			l.close()
			return
		}
		c.mu.Lock()
		c.running++
		c.mu.Unlock()
		wg.Add(1)
		c.g.goroutine(func() {
			defer wg.Done()
			c.read(l)
			c.mu.Lock()
			c.running--
			c.cond.Broadcast()
			c.mu.Unlock()
		})
	}
}

// read hands one list's objects over a page at a time, and closes the
// list when it ends or the read stops.
func (c *concurrentLists) read(l objects) {
	defer l.close()
	batch := make([]stripeapi.Object, 0, estimatedPageRows)
	for {
		if c.stopped() {
			return
		}
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

func (l *listThenAlso) close() {
	l.list.close()
	l.also.close()
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
