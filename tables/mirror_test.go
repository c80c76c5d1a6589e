package tables

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// fakeMirror is a Mirror held in memory. It answers a query by its ids,
// created range and equalities (as a store's indexes would), keeps only
// the query's paths, and records every query, count and applied write.
type fakeMirror struct {
	mu       sync.Mutex
	objs     map[string][]stripeapi.Object
	state    map[string]string // table → "ready", "backfilling", …
	lag      time.Duration
	count    map[string]int64 // Count's answer, if set
	queries  []string
	applied  []string
	applyErr error
	open     int // iterators not closed
}

func newFakeMirror() *fakeMirror {
	return &fakeMirror{objs: map[string][]stripeapi.Object{}, state: map[string]string{}, count: map[string]int64{}, lag: 1400 * time.Millisecond}
}

// load mirrors table with objs (as Stripe returned them), ready.
func (m *fakeMirror) load(t testing.TB, table string, objs []map[string]any) {
	t.Helper()
	for _, o := range objs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var obj stripeapi.Object
		if err := dec.Decode(&obj); err != nil {
			t.Fatal(err)
		}
		m.objs[table] = append(m.objs[table], obj)
	}
	m.state[table] = "ready"
}

func (m *fakeMirror) Mirrors(table string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.state[table]
	return ok
}

func (m *fakeMirror) Ready(table string) (bool, time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state[table] == "ready", m.lag
}

func (m *fakeMirror) Objects(_ context.Context, table string, q mirrorQuery) (mirrorIterator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries = append(m.queries, table+" "+queryString(q))
	var out []stripeapi.Object
	for _, o := range m.objs[table] {
		if q.IDs != nil && !slices.Contains(q.IDs, o.ID()) {
			continue
		}
		c := createdOf(o)
		if q.CreatedGTE != nil && c < *q.CreatedGTE || q.CreatedLTE != nil && c > *q.CreatedLTE {
			continue
		}
		ok := true
		for path, vals := range q.Equal {
			v, _ := lookupPath(o, path).(string)
			ok = ok && slices.Contains(vals, v)
		}
		if !ok {
			continue
		}
		if q.Paths != nil {
			kept := stripeapi.Object{"id": o["id"], "created": o["created"]}
			for _, p := range q.Paths {
				top, _, _ := strings.Cut(p, ".")
				kept[top] = o[top]
			}
			o = kept
		}
		out = append(out, o)
	}
	m.open++
	return &sliceIterator{objs: out, m: m}, nil
}

func queryString(q mirrorQuery) string {
	var parts []string
	if q.IDs != nil {
		parts = append(parts, "ids="+strings.Join(q.IDs, ","))
	}
	if q.CreatedGTE != nil {
		parts = append(parts, fmt.Sprintf("created>=%d", *q.CreatedGTE))
	}
	if q.CreatedLTE != nil {
		parts = append(parts, fmt.Sprintf("created<=%d", *q.CreatedLTE))
	}
	var keys []string
	for k := range q.Equal {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+strings.Join(q.Equal[k], ","))
	}
	if q.Paths != nil {
		parts = append(parts, "paths="+strings.Join(slices.Sorted(slices.Values(q.Paths)), ","))
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

func (m *fakeMirror) Count(_ context.Context, table string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries = append(m.queries, table+" count")
	if n, ok := m.count[table]; ok {
		return n, nil
	}
	return int64(len(m.objs[table])), nil
}

func (m *fakeMirror) Applied(_ context.Context, table string, obj stripeapi.Object, deleted bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied = append(m.applied, fmt.Sprintf("%s %s deleted=%v", table, obj.ID(), deleted))
	return m.applyErr
}

func (m *fakeMirror) Status() []mirrorStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []mirrorStatus
	for table, state := range m.state {
		out = append(out, mirrorStatus{Table: table, State: state, Objects: int64(len(m.objs[table])), Backfilled: 7, EventsApplied: 3, Lag: m.lag})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Table < out[j].Table })
	return out
}

func (m *fakeMirror) takeQueries() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := m.queries
	m.queries = nil
	return q
}

type sliceIterator struct {
	objs   []stripeapi.Object
	i      int
	m      *fakeMirror
	closed bool
}

func (s *sliceIterator) Next() (stripeapi.Object, error) {
	if s.i >= len(s.objs) {
		return nil, io.EOF
	}
	s.i++
	return s.objs[s.i-1], nil
}

func (s *sliceIterator) Close() error {
	if !s.closed {
		s.closed = true
		s.m.mu.Lock()
		s.m.open--
		s.m.mu.Unlock()
	}
	return nil
}

// mirrorEnv is an engine over a fakeStripe and a fakeMirror, with the
// tables' analyzer rules as the server has them.
type mirrorEnv struct {
	engineSession
	stripe *fakeStripe
	mirror *fakeMirror
	db     *Database
}

func newMirrorEnv(t testing.TB, customers int) *mirrorEnv {
	t.Helper()
	f := newFake(customers)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_x", Rate: -1, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	m := newFakeMirror()
	m.load(t, "Customers", f.objects["/v1/customers"])
	m.load(t, "Invoices", f.objects["/v1/invoices"])
	db.SetMirror(m)
	b := analyzer.NewBuilder(memory.NewDBProvider(db))
	for _, r := range AnalyzerRules() {
		b.AddPostAnalyzeRule(r.Id, r.Apply)
	}
	return &mirrorEnv{engineSession: newEngineSession(t, sqle.New(b.Build(), &sqle.Config{})), stripe: f, mirror: m, db: db}
}

func (e *mirrorEnv) calls() uint64 {
	v, err := e.session.GetStatusVariable(nil, StatusCalls)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.(uint64)
}

func sortRows(rows []sql.Row) []sql.Row {
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]) < fmt.Sprint(rows[j]) })
	return rows
}

// TestRoutedReadsEqualLiveReadsWithoutStripeCalls: with the table ready
// in the mirror, reads send no request, spend no call, and return the
// rows a live read returns (types, time zone and all).
func TestRoutedReadsEqualLiveReadsWithoutStripeCalls(t *testing.T) {
	e := newMirrorEnv(t, 30)
	queries := []string{
		"SELECT * FROM Customers",
		"SELECT Id, Email, Created, AddressCountry FROM Customers WHERE Balance > 1500",
		"SELECT * FROM Customers WHERE Id IN ('cus_3', 'cus_12', 'cus_nope')",
		"SELECT * FROM Invoices WHERE CustomerId = 'cus_1' AND Status = 'open'",
		"SELECT i.Id, c.Email FROM Invoices i JOIN Customers c ON c.Id = i.CustomerId",
		"SELECT Id FROM Customers WHERE Id IN (SELECT CustomerId FROM Invoices WHERE Status = 'paid')",
		"SELECT Id, Created FROM Customers ORDER BY Created DESC LIMIT 3",
		"SELECT Id FROM Customers LIMIT 2",
		"SELECT Id FROM Customers WHERE NULL IS NULL",
	}
	e.mustExec("SET time_zone = '+05:30'")
	for _, q := range queries {
		e.mustExec("SET stripe_source = 'live'")
		live := e.mustExec(q)
		if len(e.stripe.log()) == 0 {
			t.Fatalf("%s: live read sent no request", q)
		}
		e.mustExec("SET stripe_source = 'auto'")
		routed := e.mustExec(q)
		if reqs := e.stripe.log(); len(reqs) != 0 {
			t.Errorf("%s: routed read sent %v", q, reqs)
		}
		if n := e.calls(); n != 0 {
			t.Errorf("%s: Stripe_calls = %d after a routed read, want 0", q, n)
		}
		if len(e.mirror.takeQueries()) == 0 {
			t.Errorf("%s: the mirror was not asked", q)
		}
		if e.mirror.open != 0 {
			t.Errorf("%s: %d store iterators left open", q, e.mirror.open)
			e.mirror.open = 0
		}
		if !strings.Contains(q, "ORDER BY") {
			live, routed = sortRows(live), sortRows(routed)
		}
		if !reflect.DeepEqual(live, routed) {
			t.Errorf("%s:\n live   %v\n mirror %v", q, live, routed)
		}
		if len(live) == 0 {
			t.Errorf("%s: no rows; the comparison shows nothing", q)
		}
	}
}

// TestMirrorQueriesFromPlans: the pushdown plan becomes the store's
// query: retrieves' ids, created bounds, equality filters by JSON path,
// and the projection's paths.
func TestMirrorQueriesFromPlans(t *testing.T) {
	e := newMirrorEnv(t, 30)
	cases := []struct{ query, want string }{
		{"SELECT * FROM Customers WHERE Id IN ('cus_1', 'cus_2')", "Customers ids=cus_1,cus_2"},
		{"SELECT * FROM Customers WHERE Id = 'cus_7'", "Customers ids=cus_7"},
		{"SELECT * FROM Customers WHERE Created >= '2024-01-01 00:00:05' AND Created < '2024-01-01 00:00:09'",
			"Customers created>=1704067205 created<=1704067208"},
		{"SELECT * FROM Invoices WHERE CustomerId = 'cus_1' AND Status = 'open'", "Invoices customer=cus_1 status=open"},
		{"SELECT Email FROM Customers", "Customers paths=email"},
		{"SELECT Email, AddressCountry FROM Customers WHERE Id = 'cus_2'", "Customers ids=cus_2 paths=address.country,email,id"},
		{"SELECT * FROM Customers", "Customers all"},
		{"SELECT * FROM Customers WHERE Id = NULL", ""},
		// status=all is the subscriptions' whole-table scan, no filter.
		{"SELECT * FROM Subscriptions WHERE Status != 'active'", "Subscriptions all"},
		{"SELECT * FROM Subscriptions WHERE Status = 'past_due'", "Subscriptions status=past_due"},
		// The monthly aggregates read Created and Amount only: the store
		// answers them from its narrow keyspace (mirror/narrow.go).
		{"SELECT DATE_FORMAT(Created, '%Y-%m') AS Month, COUNT(*), SUM(Amount) FROM Charges GROUP BY Month", "Charges paths=amount,created"},
		{"SELECT Currency, SUM(AmountRefunded) FROM Charges WHERE Paid AND Created >= '2024-01-01' GROUP BY Currency",
			"Charges created>=1704067200 paths=amount_refunded,created,currency,paid"},
	}
	e.mirror.state["Subscriptions"] = "ready"
	e.mirror.state["Charges"] = "ready"
	for _, tc := range cases {
		e.mustExec(tc.query)
		got := strings.Join(e.mirror.takeQueries(), "; ")
		if got != tc.want {
			t.Errorf("%s:\n mirror queries %q\n want           %q", tc.query, got, tc.want)
		}
	}
	if reqs := e.stripe.log(); len(reqs) != 0 {
		t.Errorf("routed reads sent %v", reqs)
	}
}

// TestCountStarFromMirrorCount: a bare COUNT(*) of a routed table is the
// mirror's Count, without reading an object; live, it counts rows read.
func TestCountStarFromMirrorCount(t *testing.T) {
	e := newMirrorEnv(t, 30)
	e.mirror.count["Customers"] = 1234
	rows := e.mustExec("SELECT COUNT(*) FROM Customers")
	if len(rows) != 1 || rows[0][0] != int64(1234) {
		t.Fatalf("COUNT(*) routed = %v, want 1234 from the mirror's Count", rows)
	}
	if q := e.mirror.takeQueries(); !slices.Contains(q, "Customers count") || slices.ContainsFunc(q, func(s string) bool { return !strings.HasSuffix(s, " count") }) {
		t.Errorf("mirror calls %v: want Count and no object read", q)
	}
	if reqs := e.stripe.log(); len(reqs) != 0 {
		t.Errorf("routed COUNT(*) sent %v", reqs)
	}
	e.mustExec("SET stripe_source = 'live'")
	rows = e.mustExec("SELECT COUNT(*) FROM Customers")
	if rows[0][0] != int64(30) {
		t.Errorf("COUNT(*) live = %v, want 30", rows)
	}
}

// TestSourceMirrorRefusesWhatTheMirrorCannotServe: stripe_source =
// 'mirror' names the table and its state, and sends nothing to Stripe.
func TestSourceMirrorRefusesWhatTheMirrorCannotServe(t *testing.T) {
	e := newMirrorEnv(t, 30)
	e.mirror.state["Invoices"] = "backfilling"
	e.mustExec("SET stripe_source = 'mirror'")
	cases := []struct{ query, want string }{
		{"SELECT * FROM Charges", "stripe_source = 'mirror': table Charges is not mirrored (mirrored: Customers, Invoices)"},
		{"SELECT * FROM Invoices", "table Invoices is not ready in the mirror (backfilling, 7 objects backfilled so far)"},
		{"SELECT COUNT(*) FROM Invoices", "table Invoices is not ready in the mirror"},
	}
	for _, tc := range cases {
		_, err := e.exec(tc.query)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.query, err, tc.want)
		}
	}
	if reqs := e.stripe.log(); len(reqs) != 0 {
		t.Errorf("refused reads sent %v", reqs)
	}
	// 'auto' reads the backfilling table live meanwhile.
	e.mustExec("SET stripe_source = 'auto'")
	if rows := e.mustExec("SELECT * FROM Invoices"); len(rows) != 6 || len(e.stripe.log()) == 0 {
		t.Errorf("auto on a backfilling table: %d rows, want 6 read live", len(rows))
	}
	// A session on another Connect account reads live.
	e.mustExec("SET stripe_account = 'acct_other'")
	e.mustExec("SELECT * FROM Customers WHERE Id = 'cus_1'")
	if reqs := e.stripe.log(); len(reqs) != 1 {
		t.Errorf("another account's read sent %v, want one retrieve", reqs)
	}
}

// TestExplainNamesTheSource: EXPLAIN shows the mirror and its lag for a
// routed table, the Stripe calls for a live one.
func TestExplainNamesTheSource(t *testing.T) {
	e := newMirrorEnv(t, 12)
	plan := func(q string) string {
		var b strings.Builder
		for _, r := range e.mustExec("EXPLAIN FORMAT=TREE " + q) {
			fmt.Fprintln(&b, r[0])
		}
		return b.String()
	}
	cases := []struct{ query, want string }{
		{"SELECT * FROM Customers", "mirror: Customers (ready, lag 1.4 s), whole table (12 objects)"},
		{"SELECT * FROM Customers WHERE Id IN ('cus_1', 'cus_2')", "mirror: Customers (ready, lag 1.4 s), by Id (2 ids)"},
		{"SELECT * FROM Invoices WHERE Status = 'open'", "mirror: Invoices (ready, lag 1.4 s), by Status = open"},
		{"SELECT * FROM Customers WHERE Created >= '2024-01-01 00:00:05'", "mirror: Customers (ready, lag 1.4 s), by Created range [2024-01-01 00:00:05, …] UTC"},
	}
	for _, tc := range cases {
		if got := plan(tc.query); !strings.Contains(got, tc.want) || strings.Contains(got, "GET /v1") {
			t.Errorf("EXPLAIN %s:\n%s\nwant %q and no Stripe call", tc.query, got, tc.want)
		}
	}
	e.mustExec("SET stripe_source = 'live'")
	if got := plan("SELECT * FROM Customers"); !strings.Contains(got, "stripe: GET /v1/customers; GET /v1/customers?test_clock=") || strings.Contains(got, "mirror") {
		t.Errorf("EXPLAIN live:\n%s", got)
	}
}

// TestMirrorStatusVariables: SHOW STATUS shows each mirrored table's
// state, objects, backfill, events and lag.
func TestMirrorStatusVariables(t *testing.T) {
	e := newMirrorEnv(t, 12)
	got := map[string]string{}
	for _, r := range e.mustExec("SHOW STATUS LIKE 'Stripe_mirror_%'") {
		got[r[0].(string)] = fmt.Sprint(r[1])
	}
	want := map[string]string{
		"Stripe_mirror_Customers_state": "ready", "Stripe_mirror_Customers_objects": "12",
		"Stripe_mirror_Customers_backfilled": "7", "Stripe_mirror_Customers_events_applied": "3",
		"Stripe_mirror_Customers_lag_ms": "1400", "Stripe_mirror_Invoices_state": "ready",
		"Stripe_mirror_Invoices_objects": "6",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// TestReadAllIsOutsideEveryBudget: the backfill's live read returns the
// whole table through its test-clock scan and pages, and spends no call
// from a session's budget (a budget of 1 would stop it at the second).
func TestReadAllIsOutsideEveryBudget(t *testing.T) {
	if err := SetSessionDefaults("", 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = SetSessionDefaults("", 0) })
	f := newFake(250)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_x", Rate: -1})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	var ids []string
	err = db.ReadAll(t.Context(), "Customers", func(o stripeapi.Object) error {
		ids = append(ids, o.ID())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if distinct := len(slices.Compact(slices.Sorted(slices.Values(ids)))); len(ids) != 250 || distinct != 250 {
		t.Errorf("ReadAll emitted %d objects (%d distinct), want 250", len(ids), distinct)
	}
	reqs := f.log()
	if !slices.ContainsFunc(reqs, func(r string) bool { return strings.HasPrefix(r, "GET /v1/test_helpers/test_clocks") }) || len(reqs) < 3 {
		t.Errorf("ReadAll requests %v: want the customer pages and the test-clock list", reqs)
	}
	stop := errors.New("stop")
	if err := db.ReadAll(t.Context(), "Customers", func(stripeapi.Object) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("an emit error gives %v, want it returned", err)
	}
}

// mirrorWriteEnv is a write environment whose Customers are mirrored.
func mirrorWriteEnv(t *testing.T) (*writeEnv, *fakeMirror) {
	e := newWriteEnv(t, "sk_test_x", WriteOptions{})
	m := newFakeMirror()
	m.state["Customers"] = "ready"
	m.state["Invoices"] = "ready"
	e.db.SetMirror(m)
	return e, m
}

// TestWritesApplyStripesAnswerToTheMirror: INSERT, UPDATE, DELETE and a
// procedure's action hand the mirror Stripe's answer before returning.
func TestWritesApplyStripesAnswerToTheMirror(t *testing.T) {
	e, m := mirrorWriteEnv(t)
	e.mustExec("INSERT INTO Customers (Name) VALUES ('a'), ('b')")
	e.fake.put("/v1/customers/cus_9", map[string]any{"id": "cus_9", "object": "customer", "name": "x", "created": 1700000100, "metadata": map[string]any{}})
	e.mustExec("UPDATE Customers SET Name = 'y' WHERE Id = 'cus_9'")
	e.mustExec("DELETE FROM Customers WHERE Id = 'cus_9'")
	ctx := e.ctx("CALL Something('cus_1')")
	if _, err := e.db.Action(ctx, "Something", http.MethodPost, "/v1/customers/cus_1", stripeapi.Params{{Key: "name", Value: "z"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Customers cus_1 deleted=false", "Customers cus_2 deleted=false",
		"Customers cus_9 deleted=false", "Customers cus_9 deleted=true",
		"Customers cus_1 deleted=false",
	}
	if !reflect.DeepEqual(m.applied, want) {
		t.Errorf("applied %q\n want %q", m.applied, want)
	}
}

// TestFailedMirrorApplyIsAWarning: the write happened in Stripe; a
// mirror that cannot take it makes a warning, not an error.
func TestFailedMirrorApplyIsAWarning(t *testing.T) {
	e, m := mirrorWriteEnv(t)
	m.applyErr = errors.New("disk full")
	e.mustExec("INSERT INTO Customers (Name) VALUES ('a')")
	if len(m.applied) != 1 {
		t.Fatalf("applied %v", m.applied)
	}
	var msgs []string
	for _, w := range e.session.Warnings() {
		msgs = append(msgs, w.Message)
	}
	if !slices.ContainsFunc(msgs, func(s string) bool { return strings.Contains(s, "disk full") && strings.Contains(s, "Customers") }) {
		t.Errorf("warnings %q: want the mirror's failure", msgs)
	}
	// A write to another table, or another account, is not applied.
	m.applied = nil
	e.mustExec("SET stripe_account = 'acct_x'")
	e.mustExec("INSERT INTO Customers (Name) VALUES ('b')")
	if len(m.applied) != 0 {
		t.Errorf("a write to another Connect account was applied to the mirror: %v", m.applied)
	}
}

// TestWritesFindRowsLive: UPDATE and DELETE find their rows in Stripe
// even when the table is read from the mirror (a stale row could make an
// UPDATE send nothing), comments before the verb included.
func TestWritesFindRowsLive(t *testing.T) {
	e, m := mirrorWriteEnv(t)
	e.fake.put("/v1/customers/cus_5", map[string]any{"id": "cus_5", "object": "customer", "name": "x", "created": 1700000100, "metadata": map[string]any{}})
	m.load(t, "Customers", []map[string]any{{"id": "cus_5", "object": "customer", "name": "stale", "created": 1700000100}})
	for _, q := range []string{
		"UPDATE Customers SET Name = 'stale' WHERE Id = 'cus_5'",
		"/* tool */ -- note\n UPDATE Customers SET Name = 'stale' WHERE Id = 'cus_5'",
	} {
		m.queries = nil
		e.mustExec(q)
		if len(m.queries) != 0 {
			t.Errorf("%s: the row was looked up in the mirror: %v", q, m.queries)
		}
	}
	// The first UPDATE changed x to stale in Stripe; the second found it so.
	if w := e.fake.writes(); len(w) != 1 || !strings.Contains(w[0], "name=stale") {
		t.Errorf("writes %q, want one update to stale (the live row was x)", w)
	}
	rows := e.mustExec("SELECT Name FROM Customers WHERE Id = 'cus_5'")
	if len(rows) != 1 || len(m.queries) == 0 {
		t.Errorf("a SELECT after the writes: %v, mirror queries %v; want it read from the mirror", rows, m.queries)
	}
}

// TestMergedRoutedReadIsNewestFirst: a plan that relies on newest-first
// order (ORDER BY Created DESC without a sort) over several store queries
// is read as one stream, sorted newest first.
func TestMergedRoutedReadIsNewestFirst(t *testing.T) {
	e := newMirrorEnv(t, 3)
	slices.Reverse(e.mirror.objs["Invoices"]) // oldest first: the read must sort
	def, _ := catalog.Builtin().Lookup("Invoices")
	plan := pushdown.Plan{Table: def, Merge: true, Calls: []pushdown.Call{
		{Kind: pushdown.List, Path: "/v1/invoices", Params: []catalog.Param{{Key: "status", Value: "open"}}},
		{Kind: pushdown.List, Path: "/v1/invoices", Params: []catalog.Param{{Key: "status", Value: "paid"}}},
	}}
	ctx := sql.NewContext(t.Context(), sql.WithSession(e.session))
	pi := mirrorPartitions(plan)
	var parts []sql.Partition
	for {
		p, err := pi.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if len(parts) != 1 {
		t.Fatalf("%d partitions, want one stream", len(parts))
	}
	iter, err := e.db.rows(ctx, def, newRowBuilder(def, []int{def.ColumnIndex("Created")}), parts[0].(*partition))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil || len(rows) != 6 {
		t.Fatalf("%d rows (%v), want the 6 invoices", len(rows), err)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i][0].(time.Time).After(rows[i-1][0].(time.Time)) {
			t.Errorf("row %d (%v) is newer than row %d (%v)", i, rows[i][0], i-1, rows[i-1][0])
		}
	}
}
