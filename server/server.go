// Package server serves one sql.Database, plus Go stored procedures, over
// the MySQL wire protocol, using go-mysql-server (GMS) as the SQL engine.
//
// It knows nothing about Stripe: package tables supplies the database and
// package procedures the procedures. What it adds to GMS is the wiring GMS
// leaves to its users: a provider for exactly one database, password
// authentication, a server identity that does not say "Dolt", logging
// through slog and a shutdown that ends open connections.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	gms "github.com/dolthub/go-mysql-server/server"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/mysql_db"
	"github.com/dolthub/vitess/go/mysql"
)

// shutdownGrace bounds how long Close waits for connection handlers to
// return after their queries were cancelled and their sockets closed.
const shutdownGrace = 10 * time.Second

// Config configures a Server.
type Config struct {
	// Listen is the TCP address to listen on, "127.0.0.1:3306" if empty.
	// Ignored when Listener is set.
	Listen string
	// Listener, if set, is used instead of listening on Listen. New takes
	// ownership: the Server, or New if it fails, closes it.
	Listener net.Listener
	// User is the one MySQL account, with all privileges; "root" if empty.
	User string
	// Password is User's password; empty means none. Never logged.
	Password string
	// Database is the database served (required).
	Database sql.Database
	// Procedures are the Go stored procedures CALL can reach. Their names are
	// case-insensitive, as in MySQL. GMS converts arguments to the Go
	// parameter types and passes SQL NULL as the zero value ("" or 0), so a
	// procedure cannot tell NULL from an empty argument.
	Procedures []sql.ExternalStoredProcedureDetails
	// Functions are extra SQL functions (stripe_last_insert_id()); one
	// named like a built-in replaces it (exact SUM and AVG).
	Functions []sql.Function
	// AnalyzerRules run after go-mysql-server's own analysis of every
	// statement (the tables' pushdown of LIMIT and ORDER BY, and their
	// EXPLAIN output).
	AnalyzerRules []analyzer.Rule
	// ReadOnly makes the engine refuse writes: INSERT, UPDATE, DELETE and
	// procedures not marked ReadOnly fail with
	// "database server is set to read only mode".
	ReadOnly bool
	// Logger receives connection and query-error events at Debug. Nil
	// discards them.
	Logger *slog.Logger
}

// Server is a MySQL server for one database.
type Server struct {
	engine   *sqle.Engine
	gms      *gms.Server
	handler  *handler
	listener net.Listener
	log      *slog.Logger

	serving   atomic.Bool
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New builds the engine and starts listening, but accepts no connections
// until Serve. It takes ownership of cfg.Listener even when it fails.
func New(cfg Config) (_ *Server, err error) {
	if cfg.Listener != nil {
		defer func() {
			if err != nil {
				cfg.Listener.Close()
			}
		}()
	}
	if cfg.Database == nil {
		return nil, errors.New("server: no database configured")
	}
	if cfg.User == "" {
		cfg.User = "root"
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:3306"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	useUnbufferedRows()
	if err := setGlobalVariables(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	pro, err := newProvider(cfg.Database, cfg.Procedures, cfg.Functions)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	builder := analyzer.NewBuilder(pro)
	for _, r := range cfg.AnalyzerRules {
		builder.AddPostAnalyzeRule(r.Id, r.Apply)
	}
	engine := sqle.New(builder.Build(), &sqle.Config{IsReadOnly: cfg.ReadOnly})
	enableAuth(engine, cfg.User, cfg.Password)

	ln := cfg.Listener
	if ln == nil {
		ln, err = net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}

	s := &Server{
		engine:   engine,
		listener: ln,
		log:      log,
		closed:   make(chan struct{}),
	}
	wrap := func(inner mysql.Handler) (mysql.Handler, error) {
		s.handler = newHandler(inner, log)
		return s.handler, nil
	}
	s.gms, err = gms.NewServerWithHandler(gms.Config{
		Protocol: "tcp",
		Address:  ln.Addr().String(),
		Listener: ln,
		Version:  ServerVersion,
		// Zero: with a read timeout GMS fails any query whose next row
		// takes longer than it, and a page from Stripe can be slow.
		ConnReadTimeout: 0,
	}, engine, sql.NewContext, newSession, nil, wrap)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// enableAuth turns on GMS's privilege system with user as the only,
// all-powerful account. An enabled mysql_db is what makes GMS check
// passwords at all; with it disabled any user and password get in.
func enableAuth(engine *sqle.Engine, user, password string) {
	mdb := engine.Analyzer.Catalog.MySQLDb
	// Without a persister, GMS panics on the first CREATE USER or GRANT.
	// Accounts live in memory only; the configured one is recreated at start.
	mdb.SetPersister(&mysql_db.NoopPersister{})
	ed := mdb.Editor()
	defer ed.Close()
	mdb.AddSuperUser(ed, user, "%", password)
}

// newSession builds the session of a connection that has authenticated.
func newSession(_ context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
	u, _ := c.UserData.(sql.MysqlConnectionUser)
	client := sql.Client{User: u.User, Address: u.Host, Capabilities: c.Capabilities}
	return sql.NewBaseSessionWithClientServer(addr, client, c.ConnectionID), nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Engine is the GMS engine, for running queries in-process (tests,
// diagnostics) without a client connection.
func (s *Server) Engine() *sqle.Engine { return s.engine }

// Serve accepts connections until ctx is cancelled or Close is called, then
// closes the server. It returns nil if the server closed cleanly.
func (s *Server) Serve(ctx context.Context) error {
	if !s.serving.CompareAndSwap(false, true) {
		return errors.New("server: Serve called twice")
	}
	s.log.Debug("accepting MySQL connections", "addr", s.Addr().String())

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.gms.Start() // returns when the listener fails or is closed
	}()

	select {
	case <-ctx.Done():
		err := s.Close()
		<-stopped
		return err
	case <-stopped:
		select {
		case <-s.closed:
			return s.Close() // waits for Close running elsewhere
		default:
			s.Close()
			return fmt.Errorf("server: listener on %s stopped accepting connections", s.Addr())
		}
	}
}

// Close stops accepting connections, cancels running queries, closes open
// connections and waits (up to a grace period) for them to finish. It is
// safe to call more than once and concurrently with Serve.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		// Order matters: stop new connections first, then end the open ones,
		// and only then stop GMS's disconnect watcher (gms.Close), which
		// those connections use until they are gone.
		s.gms.Listener.Close()
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		err := s.handler.shutdown(ctx)
		s.gms.Close()
		err = errors.Join(err, s.engine.Close())
		if err != nil {
			s.closeErr = fmt.Errorf("server: close: %w", err)
		}
	})
	return s.closeErr
}
