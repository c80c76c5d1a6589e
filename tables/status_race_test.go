package tables

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/emulator"
)

// TestRangeScanReadersShareTheSessionStatus reads a table long enough to
// be split into ranges read by several goroutines at once, through a real
// session: each reader counts its calls in the session's status variables,
// which must be written one at a time (the engine's map is not safe for
// concurrent use; concurrent writes crashed the server with "concurrent
// map writes"). SHOW STATUS then counts every request the scan sent.
func TestRangeScanReadersShareTheSessionStatus(t *testing.T) {
	const customers = 8000
	s := startSeeded(t, emulator.Seeding{Customers: customers})
	s.emu.SetLimits(emulator.Limits{Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := s.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for run := range 3 {
		s.emu.ResetRequests()
		var n int
		if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM Customers").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != customers {
			t.Fatalf("run %d: %d customers, want %d", run, n, customers)
		}
		var name string
		var calls int
		if err := conn.QueryRowContext(ctx, "SHOW STATUS LIKE 'Stripe_calls'").Scan(&name, &calls); err != nil {
			t.Fatal(err)
		}
		if sent := s.emu.Stats().Requests; calls != sent || sent < customers/100 {
			t.Errorf("run %d: Stripe_calls = %d, the emulator answered %d requests for %d pages", run, calls, sent, customers/100)
		}
	}
}

// TestSpendFromManyGoroutines spends calls of one query from many
// goroutines at once, as a range scan's readers do, and counts them all in
// the session's status.
func TestSpendFromManyGoroutines(t *testing.T) {
	installStatusVariables()
	ctx := sql.NewContext(context.Background(), sql.WithSession(sql.NewBaseSession()), sql.WithPid(7))
	l := newCallLedger()
	l.begin(ctx)
	const readers, each = 16, 2000
	var wg sync.WaitGroup
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := l.spend(ctx, "Customers", "GET /v1/customers"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	v, err := ctx.Session.GetStatusVariable(ctx, StatusCalls)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(v); got != fmt.Sprint(readers*each) {
		t.Errorf("%s = %s after %d calls", StatusCalls, got, readers*each)
	}
}
