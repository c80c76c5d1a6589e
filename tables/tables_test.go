package tables

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
)

// fakeStripe serves customers and invoices from memory and records every
// request line, so tests can assert exactly which calls a query made.
type fakeStripe struct {
	mu       sync.Mutex
	objects  map[string][]map[string]any // list path -> objects, newest first
	requests []string
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	q := r.URL.Query()
	if objs, ok := f.objects[r.URL.Path]; ok {
		var matched []map[string]any
		for _, o := range objs {
			if v := q.Get("customer"); v != "" && o["customer"] != v {
				continue
			}
			if v := q.Get("status"); v != "" && o["status"] != v {
				continue
			}
			// created[gt] and created[lte], as Stripe's lists (and a
			// range scan's ranges) use them.
			created, _ := o["created"].(int64)
			if v, err := strconv.ParseInt(q.Get("created[gt]"), 10, 64); err == nil && created <= v {
				continue
			}
			if v, err := strconv.ParseInt(q.Get("created[lte]"), 10, 64); err == nil && created > v {
				continue
			}
			matched = append(matched, o)
		}
		start := 0
		if after := q.Get("starting_after"); after != "" {
			for i, o := range matched {
				if o["id"] == after {
					start = i + 1
				}
			}
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		end := min(start+limit, len(matched))
		writeJSON(w, 200, map[string]any{"object": "list", "data": matched[start:end], "has_more": end < len(matched)})
		return
	}
	i := strings.LastIndex(r.URL.Path, "/")
	for _, o := range f.objects[r.URL.Path[:i]] {
		if o["id"] == r.URL.Path[i+1:] {
			writeJSON(w, 200, o)
			return
		}
	}
	writeJSON(w, 404, map[string]any{"error": map[string]any{"type": "invalid_request_error", "code": "resource_missing", "message": "No such object"}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeStripe) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.requests
	f.requests = nil
	return out
}

// customerSpacing is the seconds of created between newFake's customers.
const customerSpacing = 24 * 3600

func newFake(customers int) *fakeStripe {
	// No test clocks: the clock scans of customers and invoices find none.
	f := &fakeStripe{objects: map[string][]map[string]any{"/v1/test_helpers/test_clocks": {}}}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	// A customer a day, as a small account's: a first page of customers a
	// second apart looks like a large list (rangescan's looksLarge), and
	// whether a scan then splits after it turns on the latency the test
	// machine happens to show, which would make every request count below
	// depend on the machine's load.
	for i := customers; i >= 1; i-- {
		email := any(fmt.Sprintf("c%d@example.com", i))
		if i%10 == 0 {
			email = nil
		}
		f.objects["/v1/customers"] = append(f.objects["/v1/customers"], map[string]any{
			"id": fmt.Sprintf("cus_%d", i), "object": "customer", "email": email, "balance": i * 100,
			"created": base + int64(i)*customerSpacing, "livemode": false, "metadata": map[string]any{"n": strconv.Itoa(i)},
			"address": map[string]any{"country": "US"},
		})
	}
	for i := 6; i >= 1; i-- {
		status := []string{"draft", "open", "paid"}[i%3]
		f.objects["/v1/invoices"] = append(f.objects["/v1/invoices"], map[string]any{
			"id": fmt.Sprintf("in_%d", i), "object": "invoice", "customer": fmt.Sprintf("cus_%d", 1+i%2),
			"status": status, "total": i * 1000, "created": base + 1000 + int64(i), "livemode": false,
		})
	}
	return f
}

// newEngine returns an engine over the fake and a function that makes a
// fresh context per query, with its own process id as a server would give.
func newEngine(t *testing.T, f *fakeStripe) (*sqle.Engine, func() *sql.Context) {
	t.Helper()
	tdb := newTestDB(t, f, stripeapi.Config{Rate: 1000})
	return tdb.engine, tdb.newCtx
}

// testDB is a database of the built-in catalog reading a test server.
type testDB struct {
	srv    *httptest.Server
	db     *Database
	engine *sqle.Engine
	// newCtx makes a fresh context per query (safe for concurrent use),
	// each with its own process id as a server would give.
	newCtx func() *sql.Context
}

// newTestDB serves h over HTTP and returns a database reading it with a
// client of cfg (its base URL, a test key and a 1 ms backoff set here),
// with an engine over it.
func newTestDB(t *testing.T, h http.Handler, cfg stripeapi.Config) testDB {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	cfg.BaseURL, cfg.APIKey, cfg.MinBackoff = srv.URL, "sk_test_x", time.Millisecond
	client, err := stripeapi.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	session := sql.NewBaseSession()
	session.SetCurrentDatabase("stripe")
	var pid atomic.Uint64
	return testDB{srv: srv, db: db, engine: sqle.NewDefault(memory.NewDBProvider(db)), newCtx: func() *sql.Context {
		return sql.NewContext(t.Context(), sql.WithSession(session), sql.WithPid(pid.Add(1)))
	}}
}

func query(t *testing.T, e *sqle.Engine, newCtx func() *sql.Context, q string) []sql.Row {
	t.Helper()
	ctx := newCtx()
	_, iter, _, err := e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return rows
}

func TestScanPagesAndConvertsTypes(t *testing.T) {
	f := newFake(250)
	e, ctx := newEngine(t, f)
	rows := query(t, e, ctx, "SELECT Id, Email, Balance, Created, AddressCountry, Metadata FROM Customers")
	if len(rows) != 250 {
		t.Fatalf("got %d rows, want 250", len(rows))
	}
	if calls := f.log(); len(calls) != 4 {
		t.Errorf("a scan of 250 customers made %d calls, want 3 pages and the test-clock list: %v", len(calls), calls)
	}
	first := rows[0]
	if first[0] != "cus_250" || first[1] != nil || first[2] != int64(25000) || first[4] != "US" {
		t.Errorf("first row = %v", first)
	}
	if ts, ok := first[3].(time.Time); !ok || ts.Unix() != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()+250*customerSpacing {
		t.Errorf("Created = %#v", first[3])
	}
	if doc, ok := first[5].(types.JSONDocument); !ok || doc.Val.(map[string]any)["n"] != "250" {
		t.Errorf("Metadata = %#v", first[5])
	}
}

func TestPushdownCalls(t *testing.T) {
	cases := []struct {
		query string
		rows  int
		calls []string
	}{
		{"SELECT * FROM Customers WHERE Id = 'cus_7'", 1, []string{"GET /v1/customers/cus_7?"}},
		{"SELECT * FROM Customer WHERE 'cus_7' = Id", 1, []string{"GET /v1/customers/cus_7?"}},
		{"SELECT * FROM Customers WHERE Id IN ('cus_1', 'cus_2', 'cus_nope')", 2,
			[]string{"GET /v1/customers/cus_1?", "GET /v1/customers/cus_2?", "GET /v1/customers/cus_nope?"}},
		{"SELECT * FROM Invoices WHERE CustomerId = 'cus_1' AND Status = 'open'", 1,
			[]string{"GET /v1/invoices?customer=cus_1&status=open&limit=100"}},
		{"SELECT * FROM Invoices WHERE Status = 'open'", 2,
			[]string{"GET /v1/invoices?status=open&limit=100", "GET /v1/test_helpers/test_clocks?limit=100"}},
		{"SELECT * FROM Customers LIMIT 5", 5, []string{"GET /v1/customers?limit=100"}},
		{"SELECT * FROM Customers WHERE Id = NULL", 0, nil},
	}
	f := newFake(250)
	e, ctx := newEngine(t, f)
	for _, tc := range cases {
		rows := query(t, e, ctx, tc.query)
		if len(rows) != tc.rows {
			t.Errorf("%s: %d rows, want %d", tc.query, len(rows), tc.rows)
		}
		// A plan's retrieves go out concurrently: compare them as a set.
		got := f.log()
		sort.Strings(got)
		want := append([]string(nil), tc.calls...)
		sort.Strings(want)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n calls %q\n want  %q", tc.query, got, tc.calls)
		}
	}
}

func TestJoinLooksUpByIdOncePerCustomer(t *testing.T) {
	f := newFake(20)
	e, ctx := newEngine(t, f)
	rows := query(t, e, ctx, "SELECT i.Id, c.Email FROM Invoices i JOIN Customers c ON i.CustomerId = c.Id ORDER BY i.Id")
	if len(rows) != 6 || rows[0][0] != "in_1" || rows[0][1] != "c2@example.com" {
		t.Fatalf("rows = %v", rows)
	}
	gets := map[string]int{}
	for _, call := range f.log() {
		gets[call]++
	}
	for call, n := range gets {
		if n > 1 {
			t.Errorf("%s sent %d times in one query", call, n)
		}
	}
}

// inflightStripe answers retrieves slowly and records how many were in
// flight at once.
type inflightStripe struct {
	*fakeStripe
	mu       sync.Mutex
	now, max int
}

func (s *inflightStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.now++
	s.max = max(s.max, s.now)
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s.fakeStripe.ServeHTTP(w, r)
	s.mu.Lock()
	s.now--
	s.mu.Unlock()
}

func TestRetrievesGoOutConcurrently(t *testing.T) {
	slow := &inflightStripe{fakeStripe: newFake(20)}
	srv := httptest.NewServer(slow)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_x", Rate: 1000, EndpointRate: 1000, Burst: 100})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	e := sqle.NewDefault(memory.NewDBProvider(db))
	session := sql.NewBaseSession()
	session.SetCurrentDatabase("stripe")
	ctx := sql.NewContext(t.Context(), sql.WithSession(session), sql.WithPid(1))
	var ids []string
	for i := 1; i <= 12; i++ {
		ids = append(ids, fmt.Sprintf("'cus_%d'", i))
	}
	_, iter, _, err := e.Query(ctx, "SELECT Id FROM Customers WHERE Id IN ("+strings.Join(ids, ", ")+")")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 12 {
		t.Errorf("%d rows, want 12", len(rows))
	}
	if calls := slow.log(); len(calls) != 12 {
		t.Errorf("%d calls, want one retrieve per id: %v", len(calls), calls)
	}
	if slow.max < 2 || slow.max > maxPrefetch {
		t.Errorf("at most %d retrieves were in flight at once; want between 2 and %d", slow.max, maxPrefetch)
	}
}
