package server

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// maxLoggedQuery bounds how much of a failed query is logged.
const maxLoggedQuery = 1024

// handler wraps GMS's mysql.Handler to log connections and failed queries,
// and to let Close end everything still running.
//
// Cancellation of single queries is GMS's job and needs nothing here: each
// query runs under a context registered in the process list (KILL QUERY
// cancels it) and watched for the client hanging up (GMS server/connwatch.go).
// What GMS does not do is end established connections when the server
// closes, so handler tracks them: Close cancels the context of every running
// query, closes every connection and waits for their goroutines.
//
// Embedding mysql.Handler hides the optional interfaces GMS's handler also
// implements; of those the wire server only looks for
// mysql.BinlogReplicaHandler, and stripesql is no replication source.
type handler struct {
	mysql.Handler
	log *slog.Logger

	// stop is cancelled by shutdown; every query context is derived from it
	// as well as from the per-connection context vitess passes in.
	stop       context.Context
	cancelStop context.CancelFunc

	mu     sync.Mutex
	conns  map[uint32]*mysql.Conn // open connections, counted in wg
	closed bool
	wg     sync.WaitGroup
}

func newHandler(inner mysql.Handler, log *slog.Logger) *handler {
	stop, cancel := context.WithCancel(context.Background())
	return &handler{
		Handler:    inner,
		log:        log,
		stop:       stop,
		cancelStop: cancel,
		conns:      make(map[uint32]*mysql.Conn),
	}
}

// NewConnection implements mysql.Handler.
func (h *handler) NewConnection(c *mysql.Conn) {
	h.Handler.NewConnection(c)
	// A session starts with autocommit on, and the handshake must say so
	// (GMS only sets the flag after a query): PyMySQL reads it to decide
	// whether to send SET autocommit = 0, and trusting a clear flag it
	// would not, so its transactions would silently autocommit.
	c.StatusFlags |= uint16(mysql.ServerStatusAutocommit)

	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		// Accepted just before the listener closed: end it at once.
		// ConnectionClosed still follows, as for every connection.
		c.Close()
		return
	}
	h.conns[c.ConnectionID] = c
	h.wg.Add(1)
	h.log.Debug("client connected", "conn", c.ConnectionID, "remote", c.RemoteAddr().String())
}

// ConnectionAuthenticated implements mysql.Handler.
func (h *handler) ConnectionAuthenticated(c *mysql.Conn) error {
	err := h.Handler.ConnectionAuthenticated(c)
	if err != nil {
		h.log.Debug("client session failed", "conn", c.ConnectionID, "user", c.User, "err", err)
		return err
	}
	h.log.Debug("client authenticated", "conn", c.ConnectionID, "user", c.User)
	return nil
}

// ConnectionAborted implements mysql.Handler. It is called for failed
// handshakes, among them wrong user names and passwords.
func (h *handler) ConnectionAborted(c *mysql.Conn, reason string) error {
	h.log.Debug("client connection aborted", "conn", c.ConnectionID, "reason", reason)
	return h.Handler.ConnectionAborted(c, reason)
}

// ConnectionClosed implements mysql.Handler.
func (h *handler) ConnectionClosed(c *mysql.Conn) {
	h.Handler.ConnectionClosed(c)

	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c.ConnectionID]; !ok {
		return
	}
	delete(h.conns, c.ConnectionID)
	h.wg.Done()
	h.log.Debug("client disconnected", "conn", c.ConnectionID)
}

// ComQuery implements mysql.Handler.
func (h *handler) ComQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) error {
	ctx, cancel := h.queryContext(ctx)
	defer cancel()
	err := h.Handler.ComQuery(ctx, c, explainAsTree(query), callback)
	h.logError(c, query, err)
	return err
}

// ComMultiQuery implements mysql.Handler.
func (h *handler) ComMultiQuery(ctx context.Context, c *mysql.Conn, query string, callback mysql.ResultSpoolFn) (string, error) {
	ctx, cancel := h.queryContext(ctx)
	defer cancel()
	rest, err := h.Handler.ComMultiQuery(ctx, c, explainAsTree(query), callback)
	h.logError(c, query, err)
	return rest, err
}

// ComPrepare implements mysql.Handler.
func (h *handler) ComPrepare(ctx context.Context, c *mysql.Conn, query string, prepare *mysql.PrepareData) ([]*querypb.Field, error) {
	ctx, cancel := h.queryContext(ctx)
	defer cancel()
	fields, err := h.Handler.ComPrepare(ctx, c, query, prepare)
	h.logError(c, query, err)
	return fields, err
}

// ComStmtExecute implements mysql.Handler.
func (h *handler) ComStmtExecute(ctx context.Context, c *mysql.Conn, prepare *mysql.PrepareData, callback func(*sqltypes.Result) error) error {
	ctx, cancel := h.queryContext(ctx)
	defer cancel()
	err := h.Handler.ComStmtExecute(ctx, c, prepare, callback)
	h.logError(c, prepare.PrepareStmt, err)
	return err
}

// queryContext returns ctx, additionally cancelled when the server shuts down.
func (h *handler) queryContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(h.stop, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

// logError logs a failed statement at Debug: query errors are the client's
// business (it receives them), not the operator's.
func (h *handler) logError(c *mysql.Conn, query string, err error) {
	if err == nil || !h.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	if len(query) > maxLoggedQuery {
		query = strings.ToValidUTF8(query[:maxLoggedQuery], "") + "…"
	}
	query = RedactPasswords(query)
	h.log.Debug("query failed", "conn", c.ConnectionID, "user", c.User, "query", query, "err", err)
}

// shutdown refuses new connections, cancels running queries, closes the
// open connections and waits until their handlers have returned or ctx is
// done. The listener must already be closed.
func (h *handler) shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.cancelStop()
	for _, c := range h.conns {
		c.Close()
	}
	h.mu.Unlock()

	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.mu.Lock()
		n := len(h.conns)
		h.mu.Unlock()
		return fmt.Errorf("%d client connections still open: %w", n, context.Cause(ctx))
	}
}
