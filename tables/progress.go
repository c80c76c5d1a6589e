package tables

import (
	"fmt"
	"strings"
	"sync"

	"github.com/stripesql/stripesql/stripeapi"
)

// queryProgress is what a running query has done at Stripe so far, for
// SHOW PROCESSLIST: calls (list and search pages, and retrieves) and the
// rows they produced.
type queryProgress struct {
	pages, retrieves, rows int64
}

// progressBook keeps the progress of recent queries by process id; like
// the call ledger it forgets the oldest beyond a bound.
type progressBook struct {
	mu      sync.Mutex
	byPid   map[uint64]*queryProgress
	order   []uint64
	maxKept int
}

func newProgressBook() *progressBook {
	return &progressBook{byPid: map[uint64]*queryProgress{}, maxKept: cachedQueries}
}

// get returns pid's progress, creating it; the caller holds mu.
func (b *progressBook) get(pid uint64) *queryProgress {
	p, ok := b.byPid[pid]
	if !ok {
		if len(b.order) == b.maxKept {
			delete(b.byPid, b.order[0])
			b.order = b.order[1:]
		}
		p = &queryProgress{}
		b.byPid[pid] = p
		b.order = append(b.order, pid)
	}
	return p
}

// call records one call; call is the planner's text of it ("GET /v1/…").
func (b *progressBook) call(pid uint64, call string) {
	path := strings.TrimPrefix(call, "GET ")
	b.mu.Lock()
	defer b.mu.Unlock()
	if stripeapi.IsRetrieve(path) {
		b.get(pid).retrieves++
	} else {
		b.get(pid).pages++
	}
}

// row records one row produced for the query.
func (b *progressBook) row(pid uint64) {
	b.mu.Lock()
	b.get(pid).rows++
	b.mu.Unlock()
}

// Progress describes what the query with process id pid has done at Stripe
// so far ("stripe: 4 calls (3 pages, 1 retrieve), 250 rows"), or "" if it
// has read no Stripe table. The server shows it in SHOW PROCESSLIST.
func (d *Database) Progress(pid uint64) string {
	b := d.ledger.progress
	b.mu.Lock()
	p, ok := b.byPid[pid]
	var snap queryProgress
	if ok {
		snap = *p
	}
	b.mu.Unlock()
	if !ok {
		return ""
	}
	return fmt.Sprintf("stripe: %d calls (%d pages, %d retrieves), %d rows",
		snap.pages+snap.retrieves, snap.pages, snap.retrieves, snap.rows)
}
