package tables

import (
	"fmt"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"

	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// callLedger counts the Stripe calls of each query (by process id), for
// the per-query budget (stripe_max_calls) and SHOW STATUS. Like the cache
// it keeps only recent queries.
type callLedger struct {
	// progress counts the same calls by kind, and the rows, for SHOW
	// PROCESSLIST; it has its own lock, read while the query runs.
	progress *progressBook

	// mu guards the counts, and every write of a session's status
	// variables: a session's status map is not safe for concurrent use,
	// and a range scan's readers spend calls from several goroutines.
	mu      sync.Mutex
	counts  map[uint64]uint64
	order   []uint64
	maxKept int
}

func newCallLedger() *callLedger {
	return &callLedger{counts: map[uint64]uint64{}, maxKept: cachedQueries, progress: newProgressBook()}
}

// begin marks that a query reads a Stripe table, so SHOW STATUS reports
// this query from now on, even if it makes no call at all.
func (l *callLedger) begin(ctx *sql.Context) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, known := l.counts[ctx.Pid()]; !known {
		l.track(ctx.Pid())
		setStatus(ctx, StatusCalls, 0)
	}
}

func (l *callLedger) track(pid uint64) {
	if len(l.order) == l.maxKept {
		delete(l.counts, l.order[0])
		l.order = l.order[1:]
	}
	l.counts[pid] = 0
	l.order = append(l.order, pid)
}

// spend records one call, or refuses it when the session's budget is used
// up. table and call name what the refused call was for.
func (l *callLedger) spend(ctx *sql.Context, table string, call string) error {
	if unbudgeted(ctx) {
		return nil
	}
	max := sessionOptions(ctx).maxCalls
	l.mu.Lock()
	if _, known := l.counts[ctx.Pid()]; !known {
		l.track(ctx.Pid())
	}
	n := l.counts[ctx.Pid()]
	if max > 0 && n+1 > uint64(max) {
		l.mu.Unlock()
		return budgetError(max, n+1, table, call, false)
	}
	n++
	l.counts[ctx.Pid()] = n
	setStatus(ctx, StatusCalls, n)
	l.mu.Unlock()
	l.progress.call(ctx.Pid(), call)
	return nil
}

// checkPlan refuses a plan whose calls alone exceed the budget, before any
// is sent. Pages beyond the first are not knowable in advance; spend
// catches those as they come.
func (l *callLedger) checkPlan(ctx *sql.Context, table string, plan pushdown.Plan) error {
	max := sessionOptions(ctx).maxCalls
	if max <= 0 || plan.Empty {
		return nil
	}
	need := uint64(plan.MinCalls())
	l.mu.Lock()
	spent := l.counts[ctx.Pid()]
	l.mu.Unlock()
	if spent+need > uint64(max) {
		return budgetError(max, spent+need, table, plan.String(), true)
	}
	return nil
}

// ErrCodeCallBudget is the MySQL error code of a query refused for its
// Stripe call budget: 3024, MySQL's code for a statement stopped by its
// own execution limit (max_execution_time), the closest analogue.
const ErrCodeCallBudget = mysql.ERQueryTimeout

func budgetError(max int64, need uint64, table, call string, upfront bool) error {
	what := fmt.Sprintf("needs call %d", need)
	if upfront {
		what = fmt.Sprintf("needs at least %d calls", need)
	}
	return mysql.NewSQLError(ErrCodeCallBudget, "HY000",
		"stripe_max_calls = %d: the query %s to Stripe, for table %s (%s); nothing more was sent. Narrow the WHERE clause or raise stripe_max_calls",
		max, what, table, call)
}

// recordClientStats copies the client's totals into the session's status.
func (l *callLedger) recordClientStats(ctx *sql.Context, s stripeapi.Stats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	setStatus(ctx, StatusRequests, uint64(s.Requests))
	setStatus(ctx, StatusRetries, uint64(s.Retries))
	setStatus(ctx, StatusThrottledMillis, uint64(s.ThrottledWait/time.Millisecond))
}
