package e2e

import (
	"strings"
	"testing"
)

// EXPLAIN tells how a scan's lists are read: split into concurrent created
// ranges (how many at once), one page ahead, or page by page.
func TestExplainShowsRangeScan(t *testing.T) {
	e := newEnv(t)
	explain := func(q string) string {
		var lines []string
		for _, r := range e.query(t, "EXPLAIN "+q) {
			lines = append(lines, r[0].String)
		}
		return strings.Join(lines, "\n")
	}
	for q, want := range map[string]string{
		// Before any read of the endpoint its latency is unknown.
		"SELECT * FROM Invoices WHERE Created >= '2024-01-01'": "[lists past 3 pages (past 1 whose span says the list is long) split into created ranges, up to rate × latency × 1.5 at once (at most 48)]",
		// A LIMIT that shrinks the page, and a newest-first merge, read page by page.
		"SELECT * FROM Invoices WHERE Created >= '2024-01-01' LIMIT 5": "[lists read page by page]",
		"SELECT Id FROM Customers ORDER BY Created DESC LIMIT 3":       "[lists read page by page]",
	} {
		if got := explain(q); !strings.Contains(got, want) {
			t.Errorf("EXPLAIN %s =\n%s\nwant it to show %s", q, got, want)
		}
	}
	// Once the endpoint has answered, its latency sets how many ranges go
	// at once: the harness's 10,000 req/s × the latency × 1.5, at most 48.
	e.query(t, "SELECT COUNT(*) FROM Invoices")
	if got := explain("SELECT * FROM Invoices WHERE Created >= '2024-01-01'"); !strings.Contains(got, " at once (10000 req/s × ") {
		t.Errorf("EXPLAIN after a read =\n%s\nwant the number of ranges at once from the rate and the latency", got)
	}
}
