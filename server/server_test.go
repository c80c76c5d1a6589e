package server

import (
	"context"
	dbsql "database/sql"
	"errors"
	"fmt"
	"github.com/stripesql/stripesql/internal/testlog"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
	"github.com/go-sql-driver/mysql"
)

func TestMain(m *testing.M) {
	// Keep GMS's and vitess's own logging out of the test output.
	RouteEngineLogs(slog.New(slog.DiscardHandler))
	// And the driver's complaints about connections the tests close.
	mysql.SetLogger(log.New(io.Discard, "", 0))
	os.Exit(m.Run())
}

// bareDB hides every optional interface of the memory database, so the
// server sees what it sees in production: a database that implements
// sql.Database and nothing else.
type bareDB struct{ sql.Database }

// newShopDB returns database "shop" with table items(id, name) holding
// (1, apple) and (2, pear).
func newShopDB(t *testing.T) sql.Database {
	t.Helper()
	db := memory.NewDatabase("shop")
	ctx := sql.NewEmptyContext()
	schema := sql.NewPrimaryKeySchema(sql.Schema{
		{Name: "id", Type: types.Int64, Source: "items", PrimaryKey: true},
		{Name: "name", Type: types.Text, Source: "items"},
	})
	// A local table keeps its rows itself rather than in a memory.Session,
	// which the server's sessions are not.
	items := memory.NewLocalTable(ctx, db, "items", schema, db.GetForeignKeyCollection())
	db.AddTable("items", items)
	for _, r := range []sql.Row{{int64(1), "apple"}, {int64(2), "pear"}} {
		if err := items.Insert(ctx, r); err != nil {
			t.Fatalf("insert %v: %v", r, err)
		}
	}
	return bareDB{db}
}

// greetSchema is the result set of the greet procedures.
var greetSchema = sql.Schema{{Name: "greeting", Type: types.LongText}}

func greet(_ *sql.Context, name string) (sql.RowIter, error) {
	return sql.RowsToRowIter(sql.Row{"hello " + name}), nil
}

// testProcedures are MyProc(name) (read-only) and Touch() (a write).
func testProcedures() []sql.ExternalStoredProcedureDetails {
	return []sql.ExternalStoredProcedureDetails{
		{Name: "MyProc", Schema: greetSchema, Function: greet, ReadOnly: true},
		{Name: "Touch", Schema: greetSchema, Function: func(ctx *sql.Context) (sql.RowIter, error) {
			return greet(ctx, "touched")
		}},
	}
}

// testServer is a running Server and how to reach it.
type testServer struct {
	*Server
	user, password string
	served         chan error // receives Serve's result
	cancel         context.CancelFunc
}

// start runs a server for cfg on a free port until the test ends. Unset
// Database, User and Password get test defaults.
func start(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.Database == nil {
		cfg.Database = newShopDB(t)
	}
	if cfg.User == "" {
		cfg.User, cfg.Password = "alice", "s3cret"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listener = ln
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: s, user: cfg.User, password: cfg.Password, served: make(chan error, 1), cancel: cancel}
	go func() { ts.served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ts.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	return ts
}

// dsn is the data source name for user/password on database "shop".
func (ts *testServer) dsn(user, password string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd = user, password
	c.Net, c.Addr = "tcp", ts.Addr().String()
	c.DBName = "shop"
	c.Timeout = 5 * time.Second
	return c.FormatDSN()
}

// open connects as the configured user.
func (ts *testServer) open(t *testing.T) *dbsql.DB {
	t.Helper()
	db, err := dbsql.Open("mysql", ts.dsn(ts.user, ts.password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryStrings runs q and returns its single column as strings.
func queryStrings(t *testing.T, db *dbsql.DB, q string, args ...any) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s dbsql.NullString
		if err := rows.Scan(&s); err != nil {
			t.Fatalf("%s: scan: %v", q, err)
		}
		out = append(out, s.String)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// mysqlError returns err's MySQL error, failing the test if it has none.
func mysqlError(t *testing.T, err error) *mysql.MySQLError {
	t.Helper()
	var me *mysql.MySQLError
	if !errors.As(err, &me) {
		t.Fatalf("want a MySQL error, got %v", err)
	}
	return me
}

func TestSelectReturnsRows(t *testing.T) {
	db := start(t, Config{}).open(t)
	rows, err := db.Query("SELECT id, name FROM items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s", id, name))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := "1:apple 2:pear"; strings.Join(got, " ") != want {
		t.Errorf("rows = %q, want %q", got, want)
	}
}

func TestWrongCredentialsAreRefused(t *testing.T) {
	ts := start(t, Config{})
	for _, c := range []struct{ name, user, password string }{
		{"wrong password", ts.user, "nope"},
		{"no password", ts.user, ""},
		{"unknown user", "mallory", ts.password},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := dbsql.Open("mysql", ts.dsn(c.user, c.password))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			me := mysqlError(t, db.Ping())
			if me.Number != 1045 || !strings.Contains(me.Message, "Access denied") {
				t.Errorf("got error %d %q, want 1045 Access denied", me.Number, me.Message)
			}
		})
	}
}

func TestEmptyPasswordMeansNoPassword(t *testing.T) {
	ts := start(t, Config{User: "root"})
	if err := ts.open(t).Ping(); err != nil {
		t.Fatalf("root without password: %v", err)
	}
	db, err := dbsql.Open("mysql", ts.dsn("root", "guess"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if me := mysqlError(t, db.Ping()); me.Number != 1045 {
		t.Errorf("root with a password: got %d %q, want 1045", me.Number, me.Message)
	}
}

func TestServerIdentity(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	if got := queryStrings(t, db, "SELECT @@version_comment"); len(got) != 1 || !strings.Contains(got[0], "stripesql") {
		t.Errorf("@@version_comment = %q, want it to name stripesql", got)
	}
	for _, q := range []string{"SELECT @@version", "SELECT VERSION()"} {
		if got := queryStrings(t, db, q); len(got) != 1 || got[0] != ServerVersion {
			t.Errorf("%s = %q, want %q", q, got, ServerVersion)
		}
	}

	// The handshake, the first packet the server sends, carries the version
	// the mysql client shows in its banner: 4-byte header, protocol 10,
	// NUL-terminated version.
	conn, err := net.DialTimeout("tcp", ts.Addr().String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 5+len(ServerVersion)+1)
	if _, err := io.ReadFull(conn, buf); err != nil {
		t.Fatalf("read handshake: %v", err)
	}
	if got := string(buf[5 : 5+len(ServerVersion)]); got != ServerVersion || buf[len(buf)-1] != 0 {
		t.Errorf("handshake version = %q, want %q", buf[5:], ServerVersion)
	}
}

func TestCallProcedureInAnyCase(t *testing.T) {
	db := start(t, Config{Procedures: testProcedures()}).open(t)
	for q, want := range map[string]string{
		"CALL MyProc('x')":      "hello x",
		"call myproc('y')":      "hello y",
		"CALL MYPROC('z')":      "hello z",
		"CALL shop.MyProc('w')": "hello w",
		// GMS passes SQL NULL as the Go zero value.
		"CALL MyProc(NULL)": "hello ",
	} {
		if got := queryStrings(t, db, q); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want [%q]", q, got, want)
		}
	}
	_, err := db.Exec("CALL MyProc()")
	if err == nil || !strings.Contains(err.Error(), "expected `1` parameters but got `0`") {
		t.Errorf("CALL with no argument: got %v, want a parameter-count error", err)
	}
}

func TestReadOnlyRefusesWrites(t *testing.T) {
	db := start(t, Config{ReadOnly: true, Procedures: testProcedures()}).open(t)
	for _, q := range []string{
		"INSERT INTO items VALUES (3, 'plum')",
		"UPDATE items SET name = 'fig' WHERE id = 1",
		"DELETE FROM items WHERE id = 1",
		"CALL Touch()",
	} {
		_, err := db.Exec(q)
		if err == nil || !strings.Contains(err.Error(), "database server is set to read only mode") {
			t.Errorf("%s: got %v, want the read-only error", q, err)
		}
	}
	if got := queryStrings(t, db, "SELECT name FROM items ORDER BY id"); strings.Join(got, ",") != "apple,pear" {
		t.Errorf("rows after refused writes = %q, want apple,pear", got)
	}
	if got := queryStrings(t, db, "CALL MyProc('ro')"); len(got) != 1 || got[0] != "hello ro" {
		t.Errorf("read-only procedure = %q, want [hello ro]", got)
	}
}

func TestShowDatabases(t *testing.T) {
	db := start(t, Config{}).open(t)
	got := queryStrings(t, db, "SHOW DATABASES")
	for _, want := range []string{"shop", "information_schema", "mysql"} {
		if !slices.Contains(got, want) {
			t.Errorf("SHOW DATABASES = %q, want it to list %q", got, want)
		}
	}
	if got := queryStrings(t, db, "SELECT DATABASE()"); len(got) != 1 || got[0] != "shop" {
		t.Errorf("DATABASE() = %q, want shop", got)
	}
}

// TestCatalogQueriesOnPlainDatabase runs the metadata queries clients and
// BI tools send, which consult views, triggers, procedures and events that
// a plain sql.Database does not have.
func TestCatalogQueriesOnPlainDatabase(t *testing.T) {
	db := start(t, Config{}).open(t)
	for q, want := range map[string]int{
		"SHOW TABLES":           1,
		"SHOW FULL TABLES":      1,
		"DESCRIBE items":        2,
		"SHOW TRIGGERS":         0,
		"SHOW EVENTS":           0,
		"SHOW INDEX FROM items": 1,
		"SHOW PROCEDURE STATUS WHERE Db = 'shop'":                                 0,
		"SELECT * FROM information_schema.views WHERE table_schema = 'shop'":      0,
		"SELECT * FROM information_schema.triggers WHERE trigger_schema = 'shop'": 0,
		"SELECT * FROM information_schema.routines WHERE routine_schema = 'shop'": 0,
		"SELECT * FROM information_schema.events WHERE event_schema = 'shop'":     0,
		"SELECT * FROM information_schema.tables WHERE table_schema = 'shop'":     1,
		"SELECT * FROM information_schema.schemata WHERE schema_name = 'shop'":    1,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", q, err)
		}
		rows.Close()
		if n != want {
			t.Errorf("%s: %d rows, want %d", q, n, want)
		}
	}
	if _, err := db.Exec("CREATE VIEW v AS SELECT 1"); err == nil || !strings.Contains(err.Error(), "doesn't support views") {
		t.Errorf("CREATE VIEW: got %v, want a not-supported error", err)
	}
}

func TestServerFilesAreOutOfReach(t *testing.T) {
	db := start(t, Config{}).open(t)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	var content dbsql.NullString
	err := db.QueryRow("SELECT LOAD_FILE(?)", secret).Scan(&content)
	if err == nil && content.Valid {
		t.Errorf("LOAD_FILE read %q, want an error or NULL", content.String)
	}

	out := filepath.Join(t.TempDir(), "out.txt")
	if _, err := db.Exec("SELECT name FROM items INTO OUTFILE '" + out + "'"); err == nil {
		t.Errorf("SELECT ... INTO OUTFILE succeeded, want an error")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("INTO OUTFILE created %s", out)
	}
}

func TestServeReturnsAfterCancel(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	db.SetMaxIdleConns(1)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}

	ts.cancel()
	select {
	case err := <-ts.served:
		ts.served <- err // for the cleanup's check
		if err != nil {
			t.Fatalf("Serve = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}

	if conn, err := net.DialTimeout("tcp", ts.Addr().String(), time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after Serve returned")
	}
	// The pooled connection was closed by the server, and there is no server
	// to open a new one with.
	if err := db.Ping(); err == nil {
		t.Error("Ping succeeded after Serve returned")
	}
	if err := ts.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func TestCloseBeforeServe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Database: newShopDB(t), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Serve(context.Background()); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
}

// blocker is a procedure, Block(), that waits for its context to end and
// reports that it did.
type blocker struct {
	started chan struct{}
	ended   chan error
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 1), ended: make(chan error, 1)}
}

func (b *blocker) procedure() sql.ExternalStoredProcedureDetails {
	return sql.ExternalStoredProcedureDetails{
		Name:     "Block",
		Schema:   greetSchema,
		ReadOnly: true,
		Function: func(ctx *sql.Context) (sql.RowIter, error) {
			b.started <- struct{}{}
			select {
			case <-ctx.Done():
				b.ended <- ctx.Err()
				return nil, ctx.Err()
			case <-time.After(30 * time.Second):
				b.ended <- errors.New("never cancelled")
				return nil, errors.New("never cancelled")
			}
		},
	}
}

// waitCancelled fails the test unless Block's context ends within a few
// seconds.
func (b *blocker) waitCancelled(t *testing.T) {
	t.Helper()
	select {
	case err := <-b.ended:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("procedure ended with %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("procedure's context was not cancelled")
	}
}

func (b *blocker) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-b.started:
	case <-time.After(10 * time.Second):
		t.Fatal("procedure did not start")
	}
}

func TestKillQueryCancelsQuery(t *testing.T) {
	b := newBlocker()
	db := start(t, Config{Procedures: []sql.ExternalStoredProcedureDetails{b.procedure()}}).open(t)
	ctx := context.Background()
	victim, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close()
	var id int64
	if err := victim.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}

	callErr := make(chan error, 1)
	go func() {
		_, err := victim.ExecContext(ctx, "CALL Block()")
		callErr <- err
	}()
	b.waitStarted(t)
	if _, err := db.Exec(fmt.Sprintf("KILL QUERY %d", id)); err != nil {
		t.Fatalf("KILL QUERY: %v", err)
	}
	b.waitCancelled(t)
	if err := <-callErr; err == nil {
		t.Error("killed CALL returned no error")
	}
}

func TestClientHangupCancelsQuery(t *testing.T) {
	b := newBlocker()
	db := start(t, Config{Procedures: []sql.ExternalStoredProcedureDetails{b.procedure()}}).open(t)
	// On context cancellation the driver closes the connection, without
	// telling the server anything: a client that went away.
	ctx, cancel := context.WithCancel(context.Background())
	callErr := make(chan error, 1)
	go func() {
		_, err := db.ExecContext(ctx, "CALL Block()")
		callErr <- err
	}()
	b.waitStarted(t)
	cancel()
	b.waitCancelled(t)
	<-callErr
}

func TestCloseCancelsRunningQueries(t *testing.T) {
	b := newBlocker()
	ts := start(t, Config{Procedures: []sql.ExternalStoredProcedureDetails{b.procedure()}})
	db := ts.open(t)
	callErr := make(chan error, 1)
	go func() {
		_, err := db.Exec("CALL Block()")
		callErr <- err
	}()
	b.waitStarted(t)
	start := time.Now()
	if err := ts.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	b.waitCancelled(t)
	if err := <-callErr; err == nil {
		t.Error("CALL survived Close")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestLogging(t *testing.T) {
	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := start(t, Config{Logger: logger, Password: "pa55word-never-logged", User: "bob"})

	bad, err := dbsql.Open("mysql", ts.dsn("bob", "wrong-pa55word"))
	if err != nil {
		t.Fatal(err)
	}
	bad.Ping()
	bad.Close()

	db := ts.open(t)
	db.Exec("SELECT nope FROM items")
	db.Close()
	ts.Close()

	got := logs.String()
	for _, want := range []string{
		"client connected", "client authenticated", "user=bob", "client disconnected",
		"client connection aborted", `level=WARN msg="login failed" user=bob client=127.0.0.1`, `msg="query failed"`, `query="SELECT nope FROM items"`, "nope",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"pa55word-never-logged", "wrong-pa55word"} {
		if strings.Contains(got, secret) {
			t.Errorf("logs contain password %q:\n%s", secret, got)
		}
	}
	for line := range strings.Lines(got) {
		if !strings.Contains(line, "level=DEBUG") && !strings.Contains(line, `msg="login failed"`) {
			t.Errorf("logged above Debug: %s", line)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	db := newShopDB(t)
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no database", Config{}, "no database"},
		{"procedure not a func", Config{Database: db, Procedures: []sql.ExternalStoredProcedureDetails{
			{Name: "p", Function: "nope"}}}, "function must be"},
		{"procedure without context", Config{Database: db, Procedures: []sql.ExternalStoredProcedureDetails{
			{Name: "p", Function: func(string) (sql.RowIter, error) { return nil, nil }}}}, "function must be"},
		{"same name and arity twice", Config{Database: db, Procedures: []sql.ExternalStoredProcedureDetails{
			{Name: "Greet", Function: greet}, {Name: "greet", Function: greet}}}, "two variants take 1 parameters"},
		{"unusable address", Config{Database: db, Listen: "127.0.0.1:99999"}, "invalid port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(c.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("New succeeded, want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestNewClosesTheListenerItFailsWith(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := New(Config{Listener: ln}); err == nil {
		t.Fatal("New without a database succeeded")
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on the listener = %v, want net.ErrClosed", err)
	}
}
