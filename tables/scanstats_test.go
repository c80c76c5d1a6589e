package tables

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// explainText is EXPLAIN's lines of q, joined.
func explainText(t *testing.T, rows []sql.Row) string {
	t.Helper()
	var lines []string
	for _, r := range rows {
		lines = append(lines, fmt.Sprintf("%v", r))
	}
	return strings.Join(lines, "\n")
}

// A complete scan leaves statistics: the next scan of the list is planned
// from them (EXPLAIN says so), sends no page alone (every request is a
// created range) and stays within 1.05× the pages. A scan a LIMIT stops
// leaves none.
func TestScanPlannedFromTheLastScan(t *testing.T) {
	const n = 10_000
	e, engine, newCtx, ids := emulatorEngine(t, n)
	const q = "SELECT Id FROM Customers WHERE Created >= '2025-01-01'"
	planned := "ranges: 48 concurrent, planned from the last scan: 10,000 objects"

	// A scan that a LIMIT stops records nothing. It runs in a session
	// of its own: the readers it leaves behind until its context ends
	// spend on their session's status variables.
	other := sql.NewBaseSession()
	other.SetCurrentDatabase("stripe")
	otherCtx := func() *sql.Context {
		return sql.NewContext(t.Context(), sql.WithSession(other), sql.WithPid(1_000_000))
	}
	if rows := query(t, engine, otherCtx, q+" LIMIT 1500"); len(rows) != 1500 {
		t.Fatalf("LIMIT 1500: %d rows", len(rows))
	}
	if got := explainText(t, query(t, engine, newCtx, "EXPLAIN PLAN "+q)); strings.Contains(got, "planned from the last scan") {
		t.Fatalf("after a scan stopped by a LIMIT, EXPLAIN =\n%s\nwant no statistics", got)
	}

	// The cold scan: a first page alone, then ranges.
	e.ResetRequests()
	if rows := query(t, engine, newCtx, q); len(rows) != n {
		t.Fatalf("cold scan: %d rows, want %d", len(rows), n)
	}
	// (The LIMIT's readers may still have had pages in flight.)
	cold := customerLists(e)
	alone := 0
	for _, q := range cold {
		if q.Get("created[gte]") == "1735689600" && q.Get("starting_after") == "" {
			alone++
		}
	}
	if alone != 1 {
		t.Errorf("cold scan: %d first pages alone (the caller's own params), want 1", alone)
	}
	if got := explainText(t, query(t, engine, newCtx, "EXPLAIN PLAN "+q)); !strings.Contains(got, planned) {
		t.Fatalf("EXPLAIN after a complete scan =\n%s\nwant it to show %q", got, planned)
	}

	e.ResetRequests()
	rows := query(t, engine, newCtx, q)
	count := map[string]int{}
	for _, r := range rows {
		count[r[0].(string)]++
	}
	for _, id := range ids {
		if count[id] != 1 {
			t.Fatalf("warm scan: %s returned %d times, want once", id, count[id])
		}
	}
	if len(rows) != n {
		t.Errorf("warm scan: %d rows, want %d", len(rows), n)
	}
	warm := customerLists(e)
	openAbove, openBelow := 0, 0
	for _, q := range warm {
		if q.Get("created[gte]") != "" {
			t.Errorf("warm request %v repeats the caller's created filter", q)
		}
		if q.Get("created[lte]") == "" && q.Get("starting_after") == "" {
			openAbove++
		}
		if q.Get("created[gt]") == "" {
			t.Errorf("warm request %v: want every range within the caller's lower bound", q)
		}
		if q.Get("created[gt]") == "1735689599" && q.Get("starting_after") == "" {
			openBelow++
		}
	}
	if openAbove != 1 || openBelow != 1 {
		t.Errorf("warm scan: %d ranges open above, %d at the caller's lower bound; want one each", openAbove, openBelow)
	}
	if len(warm) > 105 {
		t.Errorf("warm scan: %d requests for 100 pages, want at most 105", len(warm))
	}
	t.Logf("cold %d requests, warm %d", len(cold), len(warm))
}
