package tables

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/pushdown"
	"github.com/stripesql/stripesql/stripeapi"
)

// gate serves the emulator, holding back each request gated picks until a
// second such request is in flight (or a second has passed): lists read one
// after another never have two in flight, lists read at once do. It
// records the most in flight at once. Nothing is timed: the wait only
// lets concurrent requests meet.
type gate struct {
	e      *emulator.Emulator
	gated  func(*http.Request) bool
	mu     sync.Mutex
	cond   *sync.Cond
	now    int
	most   int
	gotTwo bool
}

func newGate(e *emulator.Emulator, gated func(*http.Request) bool) *gate {
	g := &gate{e: e, gated: gated}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.gated(r) {
		g.e.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.now++
	g.most = max(g.most, g.now)
	if g.now >= 2 {
		g.gotTwo = true
		g.cond.Broadcast()
	}
	deadline := time.AfterFunc(time.Second, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	start := time.Now()
	for !g.gotTwo && time.Since(start) < time.Second {
		g.cond.Wait()
	}
	deadline.Stop()
	g.mu.Unlock()
	g.e.ServeHTTP(w, r)
	g.mu.Lock()
	g.now--
	g.mu.Unlock()
}

func (g *gate) maxInFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.most
}

// clockedEngine is an emulator with seeded customers and, on each of four
// test clocks, three more, served through a gate on requests gated picks;
// it returns the ids of every customer by email.
func clockedEngine(t *testing.T, gated func(*http.Request) bool) (*gate, *sqle.Engine, func() *sql.Context, map[string]string) {
	t.Helper()
	e := emulator.New()
	seeded, err := e.Seed(emulator.Seeding{Customers: 150, From: seedFrom, To: seedTo})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, id := range seeded["customer"] {
		ids[id] = id
	}
	for c := range 4 {
		clock := fmt.Sprintf("clock_t%d", c)
		e.Put(map[string]any{"object": "test_helpers.test_clock", "id": clock, "frozen_time": seedTo.Unix(), "status": "ready"})
		for i := range 3 {
			id := fmt.Sprintf("cus_clock%d_%d", c, i)
			e.Put(map[string]any{"object": "customer", "id": id, "test_clock": clock, "email": fmt.Sprintf("c%d_%d@example.com", c, i)})
			ids[id] = id
		}
	}
	g := newGate(e, gated)
	tdb := newTestDB(t, g, stripeapi.Config{Rate: -1})
	return g, tdb.engine, tdb.newCtx, ids
}

func rowIDs(rows []sql.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0].(string))
	}
	sort.Strings(out)
	return out
}

func TestFanOutListsGoOutConcurrently(t *testing.T) {
	perClock := func(r *http.Request) bool {
		return r.URL.Path == "/v1/customers" && r.URL.Query().Get("test_clock") != ""
	}
	g, engine, newCtx, ids := clockedEngine(t, perClock)
	got := rowIDs(query(t, engine, newCtx, "SELECT Id FROM Customers"))
	var want []string
	for id := range ids {
		want = append(want, id)
	}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%d rows, want the %d customers (150 seeded, 12 on 4 test clocks) once each", len(got), len(want))
	}
	if n := g.maxInFlight(); n < 2 {
		t.Errorf("at most %d test clocks' lists were in flight at once; want them read concurrently", n)
	}
}

func TestUnionBranchesGoOutConcurrently(t *testing.T) {
	byEmail := func(r *http.Request) bool {
		return r.URL.Path == "/v1/customers" && r.URL.Query().Get("email") != ""
	}
	g, engine, newCtx, _ := clockedEngine(t, byEmail)
	got := rowIDs(query(t, engine, newCtx, "SELECT Id FROM Customers WHERE Email = 'c0_1@example.com' OR Email = 'c2_2@example.com' OR Email = 'nobody@example.com'"))
	if want := []string{"cus_clock0_1", "cus_clock2_2"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if n := g.maxInFlight(); n < 2 {
		t.Errorf("at most %d branches' lists were in flight at once; want the OR's branches read concurrently", n)
	}
}

// countingTransport counts the requests sent whose path counted picks,
// and the most in flight at once.
type countingTransport struct {
	rt      http.RoundTripper
	counted func(*http.Request) bool
	mu      sync.Mutex
	sent    int
	now     int
	most    int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !c.counted(r) {
		return c.rt.RoundTrip(r)
	}
	c.mu.Lock()
	c.sent++
	c.now++
	c.most = max(c.most, c.now)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.now--
		c.mu.Unlock()
	}()
	return c.rt.RoundTrip(r)
}

func (c *countingTransport) counts() (sent, most int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.most
}

// stopEnv is an emulator of 150 customers with a card each, answering
// after a latency, and a Database reading it with no rate limit (so
// concurrent lists are maxConcurrentLists wide from the start); the
// requests counted picks are counted as they are sent.
type stopEnv struct {
	emu     *emulator.Emulator
	srv     *httptest.Server
	db      *Database
	engine  *sqle.Engine
	newCtx  func() *sql.Context
	tr      *countingTransport
	counted func(*http.Request) bool
}

const stopEnvCustomers = 150

func newStopEnv(t *testing.T, counted func(*http.Request) bool) *stopEnv {
	t.Helper()
	e := emulator.New()
	seeded, err := e.Seed(emulator.Seeding{Customers: stopEnvCustomers, From: seedFrom, To: seedTo})
	if err != nil {
		t.Fatal(err)
	}
	for i, cus := range seeded["customer"] {
		e.Put(map[string]any{"object": "card", "id": fmt.Sprintf("card_%03d", i), "customer": cus, "brand": "Visa", "last4": "4242"})
	}
	// Enough latency that the lists of a fan-out are still being read
	// when its first rows arrive.
	e.SetLimits(emulator.Limits{Latency: 20 * time.Millisecond})
	tr := &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone(), counted: counted}
	tdb := newTestDB(t, e, stripeapi.Config{Rate: -1, HTTPClient: &http.Client{Transport: tr}})
	return &stopEnv{emu: e, srv: tdb.srv, db: tdb.db, engine: tdb.engine, tr: tr, counted: counted, newCtx: tdb.newCtx}
}

// logged counts the requests counted picks in the emulator's log: those
// it answered (a request the client gave up on during the latency is not
// logged).
func (s *stopEnv) logged() int {
	n := 0
	for _, r := range s.emu.Requests() {
		u, _ := url.Parse(r.Path + "?" + r.RawQuery)
		if s.counted(&http.Request{Method: r.Method, URL: u}) {
			n++
		}
	}
	return n
}

// readStop is what a query that stops a concurrent read early left behind.
type readStop struct {
	rows                     []sql.Row
	sentAtClose, sentAtEnd   int // counted requests sent (client side)
	loggedAtClose, loggedEnd int // counted requests answered (emulator log)
	mostInFlight             int
	leftRunning              int // list goroutines running once the query was closed
}

// run runs q to its end and closes it, then waits for every goroutine of
// the Database's list reads to end and for the emulator to answer every
// request it received, and reports the counts before and after.
func (s *stopEnv) run(t *testing.T, q string) readStop {
	t.Helper()
	ctx := s.newCtx()
	_, iter, _, err := s.engine.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out readStop
	for {
		row, err := iter.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out.rows = append(out.rows, row)
	}
	if err := iter.Close(ctx); err != nil {
		t.Fatalf("%s: closing: %v", q, err)
	}
	out.leftRunning = s.db.listGoroutines.running()
	out.sentAtClose, _ = s.tr.counts()
	out.loggedAtClose = s.logged()
	// Before the fix, the readers of a stopped read never ended (blocked
	// handing over pages no one would take): fail rather than hang.
	ended := make(chan struct{})
	go func() { s.db.listGoroutines.wait(); close(ended) }()
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: %d goroutines of the read still running 20 s after Close", q, s.db.listGoroutines.running())
	}
	s.srv.Close() // returns once every request it received is answered
	out.sentAtEnd, out.mostInFlight = s.tr.counts()
	out.loggedEnd = s.logged()
	t.Logf("%s: %d rows; list requests sent %d by Close, %d in all (most %d in flight); answered %d by Close, %d in all; %d list goroutines running after Close",
		q, len(out.rows), out.sentAtClose, out.sentAtEnd, out.mostInFlight, out.loggedAtClose, out.loggedEnd, out.leftRunning)
	return out
}

// check asserts that the read went concurrent, and that nothing of it
// went on after the query was closed: no goroutine, no request sent, and
// at most the requests in flight at Close answered after it.
func (r readStop) check(t *testing.T, lists int) {
	t.Helper()
	if r.mostInFlight < 2 {
		t.Errorf("at most %d lists in flight at once: the read was not concurrent, so this test shows nothing", r.mostInFlight)
	}
	if r.leftRunning != 0 {
		t.Errorf("%d goroutines of the read still running after Close; want none", r.leftRunning)
	}
	if r.sentAtEnd != r.sentAtClose {
		t.Errorf("%d list requests sent after Close (%d by then, %d in all of the %d lists); want none", r.sentAtEnd-r.sentAtClose, r.sentAtClose, r.sentAtEnd, lists)
	}
	if late := r.loggedEnd - r.loggedAtClose; late > maxConcurrentLists {
		t.Errorf("%d list requests answered after Close; want at most the %d that may have been in flight", late, maxConcurrentLists)
	}
	if r.sentAtEnd >= lists {
		t.Errorf("all %d lists were read (%d requests) for a query that stopped early", lists, r.sentAtEnd)
	}
}

func cardLists(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/v1/customers/") && strings.HasSuffix(r.URL.Path, "/sources")
}

// A LIMIT over a condition left to the engine stops a fan-out (a nested
// table read across every parent) at its first row: Close stops the
// lists it had not started and the readers of those it had.
func TestLimitStopsAConcurrentFanOut(t *testing.T) {
	s := newStopEnv(t, cardLists)
	r := s.run(t, "SELECT Id FROM Cards WHERE LENGTH(Id) > 0 LIMIT 1")
	if len(r.rows) != 1 || !strings.HasPrefix(r.rows[0][0].(string), "card_") {
		t.Errorf("rows %v, want one card", r.rows)
	}
	r.check(t, stopEnvCustomers)
}

// An EXISTS stops its subquery at the first row, while the query goes on:
// the subquery's fan-out must stop then, not when its lists run out.
func TestExistsStopsAConcurrentFanOut(t *testing.T) {
	s := newStopEnv(t, cardLists)
	r := s.run(t, "SELECT COUNT(*) FROM Customers WHERE EXISTS (SELECT 1 FROM Cards WHERE LENGTH(Id) > 0)")
	if len(r.rows) != 1 || r.rows[0][0] != int64(stopEnvCustomers) {
		t.Errorf("rows %v, want the count of the %d customers", r.rows, stopEnvCustomers)
	}
	r.check(t, stopEnvCustomers)
}

// A LIMIT stops the union of an OR's branches (an IN list), read
// concurrently, at its first row.
func TestLimitStopsAConcurrentUnion(t *testing.T) {
	byEmail := func(r *http.Request) bool {
		return r.URL.Path == "/v1/customers" && r.URL.Query().Get("email") != ""
	}
	s := newStopEnv(t, byEmail)
	var emails []string
	for _, id := range s.emu.IDs("customer") {
		if email, _ := s.emu.Get("customer", id)["email"].(string); email != "" {
			emails = append(emails, "'"+email+"'")
		}
	}
	const branches = 30 // past maxConcurrentLists, within the branches pushdown unions
	if len(emails) < branches {
		t.Fatalf("%d customers with an email, want %d", len(emails), branches)
	}
	r := s.run(t, "SELECT Id FROM Customers WHERE Email IN ("+strings.Join(emails[:branches], ", ")+") AND LENGTH(Id) > 0 LIMIT 1")
	if len(r.rows) != 1 || !strings.HasPrefix(r.rows[0][0].(string), "cus_") {
		t.Errorf("rows %v, want one customer", r.rows)
	}
	r.check(t, branches)
}

// The reads a plan adds for test clocks are read as many at once as the
// rate and latency keep busy (listsAtOnce), as a fan-out's lists, not all
// at once however many there are: at 10 requests/s and a 20 ms latency
// that is one. The burst lets every request go at once and the endpoint
// is not paced, so only the width keeps them apart.
func TestAddedReadsAreCappedByListsAtOnce(t *testing.T) {
	byEmail := func(r *http.Request) bool {
		return r.URL.Path == "/v1/customers" && r.URL.Query().Get("email") != ""
	}
	e := emulator.New()
	e.SetLimits(emulator.Limits{Latency: 20 * time.Millisecond})
	const added = 6
	var want []string
	for i := range added {
		id := fmt.Sprintf("cus_added%d", i)
		e.Put(map[string]any{"object": "customer", "id": id, "email": fmt.Sprintf("added%d@example.com", i)})
		want = append(want, id)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	tr := &countingTransport{rt: http.DefaultTransport.(*http.Transport).Clone(), counted: byEmail}
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_x", Rate: 10, Burst: added + 1, EndpointRate: -1,
		MinBackoff: time.Millisecond, HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	if n := db.listsAtOnce("/v1/customers")(); n != 1 {
		t.Fatalf("listsAtOnce = %d before any answer at 10 requests/s, want 1", n)
	}
	customers, _ := db.catalog.Lookup("Customers")
	list := func(email string) pushdown.Plan {
		return pushdown.Plan{Table: customers, Calls: []pushdown.Call{{Kind: pushdown.List, Path: "/v1/customers",
			Params: []catalog.Param{{Key: "email", Value: email}}}}}
	}
	plan := list("nobody@example.com")
	for i := range added {
		plan.Also = append(plan.Also, list(fmt.Sprintf("added%d@example.com", i)))
	}
	session := sql.NewBaseSession()
	session.SetCurrentDatabase("stripe")
	ctx := sql.NewContext(t.Context(), sql.WithSession(session), sql.WithPid(1))
	db.ledger.begin(ctx)
	db.cache.begin(ctx)
	src := db.listThenAlso(ctx, plan, nil)
	var got []string
	for {
		obj, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, obj.ID())
	}
	src.close()
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("ids %v, want %v", got, want)
	}
	sent, most := tr.counts()
	t.Logf("%d list requests, at most %d in flight", sent, most)
	if sent != added+1 {
		t.Errorf("%d list requests, want the list and the %d added reads", sent, added)
	}
	if most != 1 {
		t.Errorf("%d of the added reads were in flight at once; want 1, what listsAtOnce allows", most)
	}
}
