package tables

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
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
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	client, err := stripeapi.New(stripeapi.Config{BaseURL: srv.URL, APIKey: "sk_test_x", Rate: -1, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	engine := sqle.NewDefault(memory.NewDBProvider(db))
	session := sql.NewBaseSession()
	session.SetCurrentDatabase("stripe")
	var pid uint64
	return g, engine, func() *sql.Context {
		pid++
		return sql.NewContext(t.Context(), sql.WithSession(session), sql.WithPid(pid))
	}, ids
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
