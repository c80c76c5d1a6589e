package tables

import (
	"context"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// TestReadOnceJoinsLeaveNothingBehind runs a semi-join over every customer
// ten times: Invoices is read once per query (its pages and the customers'
// pages are all the requests, not one list per customer), the invoices read
// once are dropped when each query ends, and the live heap afterwards is
// within 10 MB of idle.
func TestReadOnceJoinsLeaveNothingBehind(t *testing.T) {
	const customers, invoices = 1000, 3000
	s := startSeeded(t, emulator.Seeding{Customers: customers, Invoices: invoices})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	const q = "SELECT COUNT(*) FROM Customers c WHERE EXISTS (SELECT 1 FROM Invoices i WHERE i.CustomerId = c.Id)"
	held := func() int {
		s.db.keyed.mu.Lock()
		defer s.db.keyed.mu.Unlock()
		return len(s.db.keyed.queries)
	}
	if err := s.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM Customers WHERE Id = 'cus_none'").Scan(new(int)); err != nil {
		t.Fatal(err)
	}
	idle := liveHeap()
	var first int
	for run := range 10 {
		s.emu.ResetRequests()
		var n int
		if err := s.sql.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			first = n
		}
		if n == 0 || n != first {
			t.Fatalf("run %d: %d customers with an invoice (first run: %d)", run, n, first)
		}
		pages := customers/100 + invoices/100
		// Half as many again as the pages, for a range scan's empty and
		// partial pages; a list per customer would be 1,000 more.
		if got := s.emu.Stats().Requests; got > pages*3/2+4 {
			t.Errorf("run %d: %d requests; reading both tables takes %d pages", run, got, pages)
		}
		deadline := time.Now().Add(10 * time.Second)
		for held() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("run %d: %d queries' read-once tables are still held after the query ended", run, held())
			}
			time.Sleep(time.Millisecond)
		}
	}
	after := liveHeap()
	t.Logf("live heap: idle %.1f MB, after ten read-once joins %.1f MB", float64(idle)/(1<<20), float64(after)/(1<<20))
	if after-idle > 10<<20 {
		t.Errorf("live heap after ten read-once joins is %.1f MB above idle, want at most 10 MB", float64(after-idle)/(1<<20))
	}
}
