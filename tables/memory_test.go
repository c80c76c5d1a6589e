package tables

import (
	"context"
	dbsql "database/sql"
	"net"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/emulator"
	"github.com/stripesql/stripesql/server"
	"github.com/stripesql/stripesql/stripeapi"
)

// seededServer is stripesql served over MySQL in this process, on an
// emulator seeded with generated objects.
type seededServer struct {
	emu *emulator.Emulator
	db  *Database
	sql *dbsql.DB
	api string // the emulator's base URL
}

func startSeeded(t testing.TB, s emulator.Seeding) *seededServer {
	t.Helper()
	emu := emulator.New()
	if s.From.IsZero() {
		s.From, s.To = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if _, err := emu.Seed(s); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(emu)
	t.Cleanup(api.Close)
	// No pacing: Rate alone would leave each endpoint at Stripe's default
	// 25 req/s, and BenchmarkSQLTax then measured that limit (200 pages
	// in 8.2 s against the bare client's 0.6 s: tax 13).
	client, err := stripeapi.New(stripeapi.Config{BaseURL: api.URL, APIKey: "sk_test_memory", Rate: 1e6, EndpointRate: -1, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	db := NewDatabase(Config{Name: "stripe", Catalog: catalog.Builtin(), Client: client})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Listener: ln, User: "root", Database: db, AnalyzerRules: AnalyzerRules()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "root", "tcp", ln.Addr().String(), "stripe"
	sqlDB, err := dbsql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	t.Cleanup(func() { sqlDB.Close() })
	return &seededServer{emu: emu, db: db, sql: sqlDB, api: api.URL}
}

// liveHeap is the heap in use after a collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

const expandedJoin = "SELECT i.Id, c.Email FROM Invoices i JOIN Customers c ON c.Id = i.CustomerId"

// TestExpandedJoinsLeaveNothingBehind runs ten joins in a row whose
// invoices carry their customers expanded (the lookups are answered from
// the per-query cache) and checks that each answers every invoice from the
// invoices' pages alone, that the cache is empty once each query has
// ended, and that the live heap afterwards is within 10 MB of idle. Before
// the cache was freed at the end of a query, each join left every expanded
// customer behind.
func TestExpandedJoinsLeaveNothingBehind(t *testing.T) {
	const customers, invoices = 400, 2000
	s := startSeeded(t, emulator.Seeding{Customers: customers, Invoices: invoices})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A first small query warms the connection and the engine.
	if err := s.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM Customers WHERE Id = 'cus_none'").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	waitEmpty := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for s.db.cache.size() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("the cache still holds %d bytes after the query ended", s.db.cache.size())
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitEmpty()
	idle := liveHeap()
	for run := range 10 {
		s.emu.ResetRequests()
		rows, err := s.sql.QueryContext(ctx, expandedJoin)
		if err != nil {
			t.Fatal(err)
		}
		n, held := 0, int64(0)
		for rows.Next() {
			var id string
			var email dbsql.NullString
			if err := rows.Scan(&id, &email); err != nil {
				t.Fatal(err)
			}
			if !email.Valid || email.String == "" {
				t.Fatalf("run %d: invoice %s joined no customer email", run, id)
			}
			n++
			if n == invoices/2 {
				held = s.db.cache.size()
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n != invoices {
			t.Fatalf("run %d: %d rows, want %d", run, n, invoices)
		}
		// Half as many again as the pages, for a range scan's empty and
		// partial pages (how many depends on how often idle readers
		// split, which load changes); a lookup per row would be 2,000.
		if got := s.emu.Stats().Requests; got > invoices/100*3/2+5 {
			t.Errorf("run %d: %d requests for %d invoice pages: the lookups were not answered from the cache", run, got, invoices/100)
		}
		if held == 0 || held > maxCacheBytes {
			t.Errorf("run %d: mid-query the cache held %d bytes, want some and at most %d", run, held, maxCacheBytes)
		}
		waitEmpty()
	}
	after := liveHeap()
	t.Logf("live heap: idle %.1f MB, after ten joins %.1f MB", float64(idle)/(1<<20), float64(after)/(1<<20))
	if after-idle > 10<<20 {
		t.Errorf("live heap after ten joins is %.1f MB above idle, want at most 10 MB", float64(after-idle)/(1<<20))
	}
}

// TestExpandedJoinUnderASmallCache runs the expanded join with a cache far
// smaller than the customers it expands (64 KB for some 400 customers of
// about 3 KB) and checks that it still sends only the invoices' pages:
// each expanded customer is looked up right after its invoice is read, so
// evicting the least recently used entries loses none that is needed.
func TestExpandedJoinUnderASmallCache(t *testing.T) {
	const customers, invoices, bound = 400, 2000, 64 << 10
	s := startSeeded(t, emulator.Seeding{Customers: customers, Invoices: invoices})
	s.db.cache = newQueryCache(bound) // before any query uses it
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s.emu.ResetRequests()
	rows, err := s.sql.QueryContext(ctx, expandedJoin)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, most := 0, int64(0)
	for rows.Next() {
		n++
		most = max(most, s.db.cache.size())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != invoices {
		t.Fatalf("%d rows, want %d", n, invoices)
	}
	if got := s.emu.Stats().Requests; got > invoices/100*3/2+5 { // range scans' extra pages, as above
		t.Errorf("%d requests for %d invoice pages: evictions cost lookups", got, invoices/100)
	}
	if most > bound {
		t.Errorf("the cache held %d bytes, bound %d", most, bound)
	}
}
