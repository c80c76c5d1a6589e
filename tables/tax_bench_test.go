package tables

import (
	"context"
	dbsql "database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// BenchmarkSQLTax streams every customer of a seeded emulator through the
// server (SELECT * over MySQL, values read as raw bytes) and, in the same
// iteration, reads the same pages with a bare Go client that decodes them
// into map[string]any. It reports the seconds of each per iteration and
// their ratio, tax = server / bare (issue 9 asks for at most 1.1). The
// emulator, the server and the client share this process, at zero latency.
func BenchmarkSQLTax(b *testing.B) {
	const rows = 20_000
	s := startSeeded(b, emulator.Seeding{Customers: rows})
	ctx := b.Context()
	var viaSQL, bare time.Duration
	for b.Loop() {
		start := time.Now()
		n, err := bareScan(ctx, s.api)
		if err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
		if n != rows {
			b.Fatalf("bare client read %d customers, want %d", n, rows)
		}
		start = time.Now()
		n, err = streamRows(ctx, s.sql, "SELECT * FROM Customers")
		if err != nil {
			b.Fatal(err)
		}
		viaSQL += time.Since(start)
		if n != rows {
			b.Fatalf("server returned %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(viaSQL.Seconds()/float64(b.N), "sql-s/op")
	b.ReportMetric(bare.Seconds()/float64(b.N), "bare-s/op")
	b.ReportMetric(viaSQL.Seconds()/bare.Seconds(), "tax")
}

// streamRows reads every row of query as raw bytes and counts them.
func streamRows(ctx context.Context, db *dbsql.DB, query string) (int, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	vals := make([]dbsql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// bareScan reads every customer with one cursor, 100 a page, decoding each
// page into map[string]any as a plain Go client would.
func bareScan(ctx context.Context, base string) (int, error) {
	hc := &http.Client{}
	n, cursor := 0, ""
	for {
		u := base + "/v1/customers?limit=100"
		if cursor != "" {
			u += "&starting_after=" + cursor
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return n, err
		}
		req.Header.Set("Authorization", "Bearer sk_test_memory")
		resp, err := hc.Do(req)
		if err != nil {
			return n, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return n, err
		}
		if resp.StatusCode != http.StatusOK {
			return n, fmt.Errorf("GET %s: %d: %s", u, resp.StatusCode, body)
		}
		var page map[string]any
		if err := json.Unmarshal(body, &page); err != nil {
			return n, err
		}
		data, _ := page["data"].([]any)
		n += len(data)
		if page["has_more"] != true || len(data) == 0 {
			return n, nil
		}
		last, _ := data[len(data)-1].(map[string]any)
		cursor, _ = last["id"].(string)
	}
}
