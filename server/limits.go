package server

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// abandonGrace is how long a query that ran out of time, or was killed, is
// given to stop by itself before the client is answered without it. A
// query waiting on Stripe stops at once (its request is cancelled); one
// stuck in go-mysql-server's analysis, which never looks at its context,
// does not, and the client should not wait for it.
const abandonGrace = 200 * time.Millisecond

var (
	errTimeLimit = mysql.NewSQLError(mysql.ERQueryTimeout, mysql.SSUnknownSQLState,
		"Query execution was interrupted, maximum statement execution time exceeded")
	errKilled = mysql.NewSQLError(mysql.ERQueryInterrupted, mysql.SSQueryInterrupted,
		"Query execution was interrupted")
	errAbandoned = errors.New("query abandoned")
)

// reportsWrites reports whether err is a statement's report of the Stripe
// writes it made: which rows were applied, and the one that was refused or
// whose outcome is unknown, with the key to retry it with (package tables:
// 1644 and ErrWriteOutcomeUnknown, 50001). A killed or timed-out statement
// must still give it to the client, which otherwise cannot tell what was
// written.
func reportsWrites(err error) bool {
	var se *mysql.SQLError
	return errors.As(err, &se) && (se.Num == 1644 || se.Num == 50001)
}

// queryLimits enforces max_execution_time (the session's, which starts as
// the global one, or the MAX_EXECUTION_TIME hint) and answers KILL QUERY at
// once, for the statements of every connection.
//
// go-mysql-server keeps the variable but never reads it, and its parser
// and analyzer do not look at the query's context: `SELECT 1+1+…` of
// 100 KB spends minutes in analysis whatever the context says. So each
// statement runs in its own goroutine; when the time is up (or KILL
// arrives) its context is cancelled, which stops Stripe requests and row
// reading, and after abandonGrace the client gets its error whether or not
// the engine has noticed. A statement left running keeps the connection's
// next statement waiting until it ends, as the session is not safe for two.
// Only reads are left behind: a write (INSERT, UPDATE, DELETE, CALL) is
// waited for, so that its client learns what became of it.
type queryLimits struct {
	mu    sync.Mutex
	conns map[uint32]*connLimits
}

type connLimits struct {
	session sql.Session
	busy    sync.Mutex    // held while a statement of the connection runs
	killed  chan struct{} // closed by KILL of the running statement
}

func newQueryLimits() *queryLimits {
	return &queryLimits{conns: make(map[uint32]*connLimits)}
}

// sessionCreated records the session of a connection, whose
// max_execution_time each statement reads.
func (q *queryLimits) sessionCreated(connID uint32, s sql.Session) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.conns[connID] = &connLimits{session: s, killed: make(chan struct{})}
}

func (q *queryLimits) closed(connID uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.conns, connID)
}

func (q *queryLimits) conn(connID uint32) *connLimits {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.conns[connID]
}

// killed is called for KILL QUERY and KILL CONNECTION.
func (q *queryLimits) killed(connID uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if c := q.conns[connID]; c != nil {
		select {
		case <-c.killed:
		default:
			close(c.killed)
		}
	}
}

// arm gives the connection's next statement a fresh kill channel.
func (q *queryLimits) arm(c *connLimits) <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	c.killed = make(chan struct{})
	return c.killed
}

// hintTime finds the optimizer hint /*+ MAX_EXECUTION_TIME(ms) */ of a
// SELECT, which MySQL reads only right after the SELECT keyword.
var hintTime = regexp.MustCompile(`(?is)^\s*(?:\(\s*)*SELECT\s*/\*\+[^*]*?\bMAX_EXECUTION_TIME\s*\(\s*(\d+)\s*\)`)

// readOnlyStatement matches the statements max_execution_time applies to.
// MySQL limits SELECT only: cutting a write short could leave half of it
// done, and here a write is a Stripe request that moves money.
var readOnlyStatement = regexp.MustCompile(`(?is)^\s*(?:/\*.*?\*/\s*|--[^\n]*\n\s*|#[^\n]*\n\s*)*(?:\(\s*)*(?:SELECT|WITH|TABLE)\b`)

// timeLimit is the statement's time limit; 0 means none.
func timeLimit(c *connLimits, query string) time.Duration {
	if !readOnlyStatement.MatchString(query) {
		return 0
	}
	if m := hintTime.FindStringSubmatch(query); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err == nil {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if c == nil || c.session == nil {
		return 0
	}
	ctx := sql.NewContext(context.Background(), sql.WithSession(c.session))
	v, err := c.session.GetSessionVariable(ctx, "max_execution_time")
	if err != nil {
		return 0
	}
	ms, _ := toInt64(v)
	if ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// limitHandler applies queryLimits to the statements of the handler it
// wraps.
type limitHandler struct {
	mysql.Handler
	limits *queryLimits
}

// ConnectionClosed implements mysql.Handler.
func (h *limitHandler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)
	h.limits.closed(c.ConnectionID)
}

// ComQuery implements mysql.Handler.
func (h *limitHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	_, err := h.run(ctx, c, query, callback, func(ctx context.Context, cb mysql.ResultSpoolFn) (string, error) {
		return "", h.Handler.ComQuery(ctx, c, query, cb)
	})
	return err
}

// ComMultiQuery implements mysql.Handler.
func (h *limitHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	return h.run(ctx, c, query, callback, func(ctx context.Context, cb mysql.ResultSpoolFn) (string, error) {
		return h.Handler.ComMultiQuery(ctx, c, query, cb)
	})
}

// ComPrepare implements mysql.Handler. Preparing analyzes the statement,
// which for `SELECT 1+1+…` is where the time goes, so it runs under the
// statement's limit like a query.
func (h *limitHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	var fields []*querypb.Field // read only if the call was not abandoned
	_, err := h.run(ctx, c, query, nil, func(ctx context.Context, _ mysql.ResultSpoolFn) (string, error) {
		f, err := h.Handler.ComPrepare(ctx, c, query, prepare)
		fields = f
		return "", err
	})
	if err != nil {
		return nil, err
	}
	return fields, nil
}

// ComStmtExecute implements mysql.Handler. A prepared statement gets the
// time limit as its context's deadline; it is not abandoned, as its
// analysis happened at prepare time.
func (h *limitHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	if d := timeLimit(h.limits.conn(c.ConnectionID), prepare.PrepareStmt); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, errTimeLimit)
		defer cancel()
		if err := h.Handler.ComStmtExecute(ctx, c, prepare, callback); err != nil {
			if context.Cause(ctx) == errTimeLimit {
				return errTimeLimit
			}
			return err
		}
		return nil
	}
	return h.Handler.ComStmtExecute(ctx, c, prepare, callback)
}

// isCancellation tells an error that only says the statement's context
// ended, which the client is better told as MySQL's timeout or
// interruption, from one that says more (a write's unknown outcome).
// go-mysql-server may have turned the context's error into text.
func isCancellation(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se *mysql.SQLError
	if errors.As(err, &se) && se.Num != mysql.ERUnknownError && se.Num != mysql.ERQueryInterrupted {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "context canceled") || strings.Contains(msg, "context deadline exceeded") ||
		strings.Contains(msg, "query was interrupted") || strings.Contains(msg, "Query execution was interrupted")
}

// run runs one statement under the connection's limits.
func (h *limitHandler) run(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn,
	inner func(context.Context, mysql.ResultSpoolFn) (string, error)) (string, error) {
	cl := h.limits.conn(c.ConnectionID)
	if cl == nil {
		// No session recorded (cannot happen once authenticated): no limits.
		return inner(ctx, callback)
	}
	cl.busy.Lock() // waits for an abandoned predecessor to end
	d := timeLimit(cl, query)
	killed := h.limits.arm(cl)

	ctx, cancel := context.WithCancelCause(ctx)
	if d > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeoutCause(ctx, d, errTimeLimit)
		defer cancelT()
	}

	// The callback writes to the client; once the statement is abandoned
	// it must not, since the connection has moved on.
	var (
		cbMu      sync.Mutex
		abandoned bool
	)
	guarded := func(r *sqltypes.Result, more bool) error {
		cbMu.Lock()
		defer cbMu.Unlock()
		if abandoned {
			return errAbandoned
		}
		return callback(r, more)
	}

	type result struct {
		rest string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer cl.busy.Unlock()
		rest, err := inner(ctx, guarded)
		done <- result{rest, err}
	}()

	why := func() error {
		select {
		case <-killed:
			return errKilled
		default:
		}
		if context.Cause(ctx) == errTimeLimit {
			return errTimeLimit
		}
		return nil
	}
	finish := func(r result) (string, error) {
		cancel(nil)
		if r.err != nil && !reportsWrites(r.err) && isCancellation(r.err) {
			if e := why(); e != nil {
				return "", e
			}
		}
		return r.rest, r.err
	}

	select {
	case r := <-done:
		return finish(r)
	case <-ctx.Done():
	case <-killed:
		cancel(errKilled)
	}
	if !readOnlyStatement.MatchString(query) {
		// A write reports what became of it (an outcome may be unknown,
		// with the idempotency key to retry it): wait for that, it comes
		// as soon as the cancelled Stripe request returns.
		return finish(<-done)
	}
	grace := time.NewTimer(abandonGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		return finish(r)
	case <-grace.C:
	}
	cbMu.Lock()
	abandoned = true
	cbMu.Unlock()
	cancel(errAbandoned)
	if e := why(); e != nil {
		return "", e
	}
	return "", context.Cause(ctx) // the client went away, or the server is closing
}
