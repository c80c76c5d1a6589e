package server

import (
	"context"
	"sync"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// idleHandler closes a connection that has sent no statement for its
// session's wait_timeout seconds, as MySQL does: go-mysql-server keeps the
// variable but never reads it, and the server cannot use a read timeout on
// the socket instead (it would also end slow queries; see ConnReadTimeout).
// The clock starts when a statement ends and stops when the next begins.
type idleHandler struct {
	mysql.Handler
	limits *queryLimits // for the connection's session

	mu     sync.Mutex
	timers map[uint32]*time.Timer
}

func newIdleHandler(inner mysql.Handler, limits *queryLimits) *idleHandler {
	return &idleHandler{Handler: inner, limits: limits, timers: make(map[uint32]*time.Timer)}
}

// waitTimeout is the session's wait_timeout; 0 when unknown.
func (h *idleHandler) waitTimeout(c *mysql.Conn) time.Duration {
	cl := h.limits.conn(c.ConnectionID)
	if cl == nil || cl.session == nil {
		return 0
	}
	v, err := cl.session.GetSessionVariable(sql.NewEmptyContext(), "wait_timeout")
	if err != nil {
		return 0
	}
	n, ok := v.(int64)
	if !ok || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// idle starts the connection's clock.
func (h *idleHandler) idle(c *mysql.Conn) {
	d := h.waitTimeout(c)
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.timers[c.ConnectionID]; t != nil {
		t.Stop()
	}
	if d <= 0 {
		delete(h.timers, c.ConnectionID)
		return
	}
	h.timers[c.ConnectionID] = time.AfterFunc(d, c.Close)
}

// busy stops the connection's clock.
func (h *idleHandler) busy(c *mysql.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.timers[c.ConnectionID]; t != nil {
		t.Stop()
	}
}

// ConnectionAuthenticated implements mysql.Handler.
func (h *idleHandler) ConnectionAuthenticated(c *mysql.Conn) error {
	if err := h.Handler.ConnectionAuthenticated(c); err != nil {
		return err
	}
	h.idle(c)
	return nil
}

// ConnectionClosed implements mysql.Handler.
func (h *idleHandler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.timers[c.ConnectionID]; t != nil {
		t.Stop()
		delete(h.timers, c.ConnectionID)
	}
}

// ComQuery implements mysql.Handler.
func (h *idleHandler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	h.busy(c)
	defer h.idle(c)
	return h.Handler.ComQuery(ctx, c, query, callback)
}

// ComMultiQuery implements mysql.Handler.
func (h *idleHandler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	h.busy(c)
	defer h.idle(c)
	return h.Handler.ComMultiQuery(ctx, c, query, callback)
}

// ComPrepare implements mysql.Handler.
func (h *idleHandler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	h.busy(c)
	defer h.idle(c)
	return h.Handler.ComPrepare(ctx, c, query, prepare)
}

// ComStmtExecute implements mysql.Handler.
func (h *idleHandler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	h.busy(c)
	defer h.idle(c)
	return h.Handler.ComStmtExecute(ctx, c, prepare, callback)
}

// ComResetConnection implements mysql.Handler.
func (h *idleHandler) ComResetConnection(c *mysql.Conn) error {
	h.busy(c)
	defer h.idle(c)
	return h.Handler.ComResetConnection(c)
}
