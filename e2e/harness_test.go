// Package e2e runs stripesql end to end: the MySQL wire server, the tables,
// the Stripe client and the emulator, with every request the client sends
// first checked against Stripe's OpenAPI spec by an in-process stripe-mock.
package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"github.com/stripesql/stripesql/internal/testlog"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/aggregates"
	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/internal/specvalidate"
	"github.com/stripesql/stripesql/metrics"
	"github.com/stripesql/stripesql/mirror"
	"github.com/stripesql/stripesql/procedures"
	"github.com/stripesql/stripesql/server"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// env is one running stripesql over one emulator.
type env struct {
	emu *emulator.Emulator
	db  *sql.DB
	// direct reaches the emulator without stripesql, for expected values.
	direct string
	logs   *testlog.Buffer
	// addr is the MySQL server's address, for clients other than db.
	addr string
	// mirror is the server's mirror (withMirror), nil without one.
	mirror *mirror.Mirror
}

// newEnv starts stripesql on the demo emulator behind the spec validator.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	emu := emulator.NewDemo()
	validated, err := specvalidate.Wrap(emu)
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, emu, validated, catalog.Builtin(), opts...)
}

// startConfig is what the options of startOn set; the zero value is a
// writable server with a test key, wired as the binary is: writes
// enabled, the stored procedures and the SQL functions registered.
type startConfig struct {
	apiKey          string
	readOnly        bool
	allowLiveWrites bool
	quiet           bool // discard logs (long runs would buffer megabytes)
	conns           int  // most open MySQL connections of env.db
	// writeWindow is the client's WriteRetryWindow: short, so that a
	// write under a lasting fault ends as unknown without a minute's wait.
	writeWindow time.Duration
	metrics     *metrics.Metrics // nil: none, as without --metrics-listen
	rate        float64          // the client's Rate and Burst
	burst       int
	// mirrorTables are mirrored, as with --mirror (withMirror).
	mirrorTables []string
}

// withMetrics records the server's metrics in m, as --metrics-listen does.
func withMetrics(m *metrics.Metrics) option { return func(c *startConfig) { c.metrics = m } }

// withRate sets the client's rate limiter (10000/s, burst 100 by default).
func withRate(rate float64, burst int) option {
	return func(c *startConfig) { c.rate, c.burst = rate, burst }
}

// An option changes how startOn starts stripesql.
type option func(*startConfig)

// withAPIKey makes the client use key (sk_live_… for live mode).
func withAPIKey(key string) option { return func(c *startConfig) { c.apiKey = key } }

// withReadOnly starts the server read-only (--read-only).
func withReadOnly() option { return func(c *startConfig) { c.readOnly = true } }

// withQuietLogs discards stripesql's logs instead of keeping them in env.logs.
func withQuietLogs() option { return func(c *startConfig) { c.quiet = true } }

// withConns lets env.db open n connections (2 by default).
func withConns(n int) option { return func(c *startConfig) { c.conns = n } }

// withWriteRetryWindow sets how long writes that may have executed are
// retried (100ms by default in tests).
func withWriteRetryWindow(d time.Duration) option { return func(c *startConfig) { c.writeWindow = d } }

// withAllowLiveWrites allows writes with a live key (--allow-live-writes).
func withAllowLiveWrites() option { return func(c *startConfig) { c.allowLiveWrites = true } }

// startOn serves the catalog's tables over the given Stripe handler.
func startOn(t testing.TB, emu *emulator.Emulator, stripe http.Handler, cat *catalog.Catalog, opts ...option) *env {
	t.Helper()
	cfg := startConfig{apiKey: "sk_test_e2e", conns: 2, writeWindow: 100 * time.Millisecond, rate: 10000, burst: 100}
	for _, o := range opts {
		o(&cfg)
	}
	api := httptest.NewServer(stripe)
	t.Cleanup(api.Close)
	e := &env{emu: emu, logs: &testlog.Buffer{}}
	if emu != nil {
		direct := httptest.NewServer(emu)
		t.Cleanup(direct.Close)
		e.direct = direct.URL
	}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	client, err := stripeapi.New(stripeapi.Config{
		BaseURL: api.URL, APIKey: cfg.apiKey, Rate: cfg.rate, EndpointRate: cfg.rate, Burst: cfg.burst,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: logger,
		WriteRetryWindow: cfg.writeWindow,
		OnRequest:        onRequest(cfg.metrics),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stripeDB := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: cat, Client: client, Logger: logger})
	stripeDB.EnableWrites(tables.WriteOptions{AllowLiveWrites: cfg.allowLiveWrites})
	if len(cfg.mirrorTables) > 0 {
		e.mirror = openTestMirror(t, cfg.mirrorTables, cat, client, stripeDB, logger)
	}
	procs, err := procedures.All(stripeDB)
	if err != nil {
		// The procedures return rows of the builtin tables; a test catalog
		// without them (a one-table catalog) serves no procedures.
		t.Logf("no stored procedures: %v", err)
		procs = nil
	}
	srv, err := server.New(server.Config{
		Listener: ln, User: "root",
		Database:         stripeDB,
		Procedures:       procs,
		Functions:        append(stripeDB.Functions(), aggregates.Functions()...),
		PreAnalyzerRules: tables.PreAnalyzerRules(),
		AnalyzerRules:    tables.AnalyzerRules(),
		ReadOnly:         cfg.readOnly,
		Logger:           logger,
		Observer:         observer(cfg.metrics),
		Progress:         stripeDB.Progress,
		Ledger:           stripeDB,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.metrics != nil {
		cfg.metrics.WatchClient(client)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/stripe", ln.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(cfg.conns)
	t.Cleanup(func() { db.Close() })
	e.db = db
	e.addr = ln.Addr().String()
	return e
}

func onRequest(m *metrics.Metrics) func(context.Context, stripeapi.RequestEvent) {
	if m == nil {
		return nil
	}
	return m.ObserveRequest
}

func observer(m *metrics.Metrics) server.QueryObserver {
	if m == nil {
		return nil
	}
	return m
}

// query runs q and returns every value as a nullable string, the way the
// text protocol carries it.
func (e *env) query(t testing.TB, q string, args ...any) [][]sql.NullString {
	t.Helper()
	_, out, err := scanText(e.db.Query(q, args...))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// pinnedConn is one connection of e's pool, for a test whose session
// state (SET …, temporary tables, prepared statements) must hold across
// its queries; it is closed when the test ends.
func pinnedConn(t *testing.T, e *env) *sql.Conn {
	t.Helper()
	c, err := e.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// mustExec runs q on c and fails the test if it errs.
func mustExec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// scanText reads every row of a query's result as nullable strings, the
// way the text protocol carries values, with the column names; it takes
// the query's own results (scanText(db.Query(…))) and closes the rows.
// Every helper that reads a whole result as text reads it here.
func scanText(rows *sql.Rows, err error) ([]string, [][]sql.NullString, error) {
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]sql.NullString
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	return cols, out, rows.Err()
}

// nullText is a value as the text helpers show it: "NULL" for NULL.
func nullText(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// calls runs q and returns the request lines the emulator received for it.
func (e *env) calls(t testing.TB, q string) ([][]sql.NullString, []string) {
	t.Helper()
	e.emu.ResetRequests()
	rows := e.query(t, q)
	var lines []string
	for _, r := range e.emu.Requests() {
		line := r.Method + " " + r.Path
		if r.RawQuery != "" {
			line += "?" + r.RawQuery
		}
		lines = append(lines, line)
	}
	return rows, lines
}

// list reads a whole list endpoint straight from the emulator, with
// net/http and encoding/json only, so expected values do not depend on
// stripesql's client.
func (e *env) list(t testing.TB, path string, params string) []map[string]any {
	t.Helper()
	var all []map[string]any
	after := ""
	for {
		q := "limit=100"
		if params != "" {
			q += "&" + params
		}
		if after != "" {
			q += "&starting_after=" + after
		}
		var page struct {
			Data    []map[string]any `json:"data"`
			HasMore bool             `json:"has_more"`
		}
		e.getJSON(t, path+"?"+q, &page)
		all = append(all, page.Data...)
		if !page.HasMore || len(page.Data) == 0 {
			return all
		}
		after = page.Data[len(page.Data)-1]["id"].(string)
	}
}

// directDo sends a request to the emulator without stripesql, as another
// Stripe client would, with form (if any) as its body; the caller closes
// the answer's body.
func (e *env) directDo(ctx context.Context, method, path string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, e.direct+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer sk_test_e2e")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return http.DefaultClient.Do(req)
}

func (e *env) getJSON(t testing.TB, pathAndQuery string, v any) {
	t.Helper()
	resp, err := e.directDo(context.Background(), http.MethodGet, pathAndQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", pathAndQuery, resp.Status)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatal(err)
	}
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// sqlNull is a nullable text value as the driver returns it.
type sqlNull = sql.NullString
