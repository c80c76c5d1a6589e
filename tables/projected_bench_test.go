package tables

import (
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// BenchmarkSQLTaxProjected streams queries that read few of the customers'
// columns (COUNT(*) none, a grouped SUM two) through the server, as
// BenchmarkSQLTax does SELECT *, and reports the time and the allocations
// (of the whole process: emulator, server and client) per customer
// scanned: what decoding only the paths a query uses saves. Time is CPU
// time (user and system, from getrusage): the emulator's rate limit, not
// the CPU, sets the wall time.
//
//	CGO_ENABLED=0 go test -tags gms_pure_go -run '^$' -bench SQLTaxProjected ./tables/
//
// The join is the bench's (10,000 invoices, their customers expanded
// inline, 2,000 customers); its rows are the invoices scanned.
func BenchmarkSQLTaxProjected(b *testing.B) {
	const customers = 20_000
	s := startSeeded(b, emulator.Seeding{Customers: customers})
	var join *seededServer // started once, stopped when the benchmark ends
	outer := b
	for _, q := range []struct{ name, sql string }{
		{"count", "SELECT COUNT(*) FROM Customers"},
		{"group-sum", "SELECT Email, SUM(Balance) FROM Customers GROUP BY Email"},
		{"select-star", "SELECT * FROM Customers"},
		{"join", "SELECT c.Id, COUNT(*), SUM(i.Total) FROM Customers c JOIN Invoices i ON i.CustomerId = c.Id GROUP BY c.Id"},
	} {
		b.Run(q.name, func(b *testing.B) {
			s, customers := s, customers
			if q.name == "join" {
				if join == nil {
					join = startSeeded(outer, emulator.Seeding{Customers: 2_000, Invoices: 10_000})
				}
				s, customers = join, 10_000
			}
			var elapsed time.Duration
			var mallocs uint64
			var ms runtime.MemStats
			for b.Loop() {
				runtime.ReadMemStats(&ms)
				before := ms.Mallocs
				start := cpuTime(b)
				if _, err := streamRows(b.Context(), s.sql, q.sql); err != nil {
					b.Fatal(err)
				}
				elapsed += cpuTime(b) - start
				runtime.ReadMemStats(&ms)
				mallocs += ms.Mallocs - before
			}
			scanned := float64(b.N) * float64(customers)
			b.ReportMetric(float64(elapsed.Nanoseconds())/scanned, "cpu-ns/row")
			b.ReportMetric(float64(mallocs)/scanned, "allocs/row")
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
