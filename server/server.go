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
	"crypto/tls"
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
	"github.com/dolthub/vitess/go/mysql"

	"github.com/stripesql/stripesql/mysqlfuncs"
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
	// PreAnalyzerRules run before go-mysql-server's own analysis (folding
	// stripe_last_insert_id() into its value before pushdown).
	PreAnalyzerRules []analyzer.Rule
	// AnalyzerRules run after go-mysql-server's own analysis of every
	// statement (the tables' pushdown of LIMIT and ORDER BY, and their
	// EXPLAIN output).
	AnalyzerRules []analyzer.Rule
	// ReadOnly makes the engine refuse writes: INSERT, UPDATE, DELETE and
	// procedures not marked ReadOnly fail with
	// "database server is set to read only mode".
	ReadOnly bool
	// Logger receives connection and query-error events at Debug, failed
	// logins at Warn. Nil discards them.
	Logger *slog.Logger

	// TLS, if set, is offered to clients (have_ssl = YES).
	TLS *Certificate
	// RequireSecureTransport refuses clients that do not use TLS. It needs TLS.
	RequireSecureTransport bool
	// UsersFile keeps the accounts and grants made with CREATE USER and
	// GRANT across restarts (created 0600). Empty keeps them in memory.
	UsersFile string
	// CappedVariables are integer session variables where 0 means no limit
	// and a session may lower the value but only an administrator (SUPER or
	// SYSTEM_VARIABLES_ADMIN) may raise it above the global value.
	CappedVariables []string
	// Observer, if set, is told about every statement when it ends.
	Observer QueryObserver
	// Ledger, if set, makes sessions transactional in name: ROLLBACK and
	// ROLLBACK TO SAVEPOINT tell it the connection rolled back, so that it
	// can say which writes stay (see transactions.go).
	Ledger Ledger
	// Progress, if set, describes what a running query (by process id) has
	// done so far; SHOW PROCESSLIST shows it after the query's text.
	Progress func(pid uint64) string
	// MaxExecutionTime is the global max_execution_time, which sessions
	// start with: SELECTs running longer are cancelled. 0 means none.
	MaxExecutionTime time.Duration
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
	if cfg.RequireSecureTransport && cfg.TLS == nil {
		return nil, errors.New("server: secure transport required but no TLS certificate configured")
	}
	if err := setGlobalVariables(cfg.TLS != nil, cfg.MaxExecutionTime); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	// MySQL functions the engine lacks come first, so a configured
	// function of the same name is refused rather than silently shadowed.
	pro, err := newProvider(cfg.Database, cfg.Procedures, append(mysqlfuncs.Functions(), cfg.Functions...))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	registerAssignedKeyRule()
	mysqlfuncs.RegisterWindowFunctions()
	builder := analyzer.NewBuilder(pro)
	vars := accessRule(cfg.CappedVariables)
	builder.AddPostAnalyzeRule(vars.Id, vars.Apply)
	cased := routineCaseRule(pro.db)
	builder.AddPostAnalyzeRule(cased.Id, cased.Apply)
	for _, r := range cfg.PreAnalyzerRules {
		builder.AddPreAnalyzeRule(r.Id, r.Apply)
	}
	for _, r := range cfg.AnalyzerRules {
		builder.AddPostAnalyzeRule(r.Id, r.Apply)
	}
	engine := sqle.New(builder.Build(), &sqle.Config{IsReadOnly: cfg.ReadOnly})
	if cfg.Progress != nil {
		engine.ProcessList = progressList{engine.ProcessList, cfg.Progress}
	}
	if err := enableAuth(engine, cfg.User, cfg.Password, cfg.UsersFile); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

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
	booleans, err := booleanColumns(cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	limits := newQueryLimits()
	wrap := func(inner mysql.Handler) (mysql.Handler, error) {
		inner = newCompatHandler(inner, booleans, sessionEnder(pro, cfg.Database))
		inner = &limitHandler{Handler: inner, limits: limits}
		inner = newIdleHandler(inner, limits)
		inner = observe(inner, cfg.Observer)
		inner = changeUserHandler{inner}
		inner = newLoginGuard(inner, log, cfg.RequireSecureTransport)
		s.handler = newHandler(inner, log)
		return s.handler, nil
	}
	var tlsConfig *tls.Config
	if cfg.TLS != nil {
		tlsConfig = cfg.TLS.TLSConfig()
	}
	s.gms, err = gms.NewServerWithHandler(gms.Config{
		Protocol: "tcp",
		Address:  ln.Addr().String(),
		// COM_CHANGE_USER is read below vitess; see changeuser.go.
		Listener: &commandListener{Listener: ln, auth: engine.Analyzer.Catalog.MySQLDb},
		Version:  ServerVersion,
		// Zero: with a read timeout GMS fails any query whose next row
		// takes longer than it, and a page from Stripe can be slow.
		ConnReadTimeout:        0,
		TLSConfig:              tlsConfig,
		RequireSecureTransport: cfg.RequireSecureTransport,
	}, engine, contextFactory(engine, limits), sessionBuilder(limits, cfg.Ledger), nil, wrap)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	return s, nil
}

// sessionBuilder builds the session of a connection that has
// authenticated, and records it for the connection's query limits.
func sessionBuilder(limits *queryLimits, ledger Ledger) gms.SessionBuilder {
	return func(_ context.Context, c *mysql.Conn, addr string) (sql.Session, error) {
		u, _ := c.UserData.(sql.MysqlConnectionUser)
		client := sql.Client{User: u.User, Address: u.Host, Capabilities: c.Capabilities}
		base := sql.NewBaseSessionWithClientServer(addr, client, c.ConnectionID)
		var s sql.Session = base
		if ledger != nil {
			s = &txSession{BaseSession: base, ledger: ledger}
		}
		limits.sessionCreated(c.ConnectionID, s)
		return s, nil
	}
}

// contextFactory makes the contexts of queries, each seeing the process
// list through its own session's eyes (see processView).
func contextFactory(engine *sqle.Engine, limits *queryLimits) sql.ContextFactory {
	mdb := engine.Analyzer.Catalog.MySQLDb
	return func(ctx context.Context, opts ...sql.ContextOption) *sql.Context {
		c := sql.NewContext(ctx, opts...)
		if _, ok := c.ProcessList.(*processView); !ok && c.Session != nil {
			c.ProcessList = &processView{ProcessList: c.ProcessList, self: c, mdb: mdb, kills: limits}
		}
		return c
	}
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
