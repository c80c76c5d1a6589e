package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
)

// biStatement is one statement of testdata/bi/connect_queries.sql.
type biStatement struct {
	tool, query string
	line        int
	zeroCalls   bool
	minRows     int
	noRows      bool    // "-- rows: none"
	first       *string // "-- first: X": the first row's first column
}

func readBIStatements(t *testing.T, path string) []biStatement {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []biStatement
		cur  biStatement
		text []string
		tool string
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "-- tool:"):
			tool = strings.TrimSpace(strings.TrimPrefix(line, "-- tool:"))
		case line == "-- calls: 0":
			cur.zeroCalls = true
		case line == "-- rows: none":
			cur.noRows = true
		case strings.HasPrefix(line, "-- first:"):
			v := strings.TrimSpace(strings.TrimPrefix(line, "-- first:"))
			cur.first = &v
		case strings.HasPrefix(line, "-- rows:"):
			cur.minRows, err = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "-- rows:")))
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
		case line == "" || strings.HasPrefix(line, "--"):
		default:
			if len(text) == 0 {
				cur.line = n
			}
			text = append(text, line)
			if strings.HasSuffix(line, ";") {
				cur.tool, cur.query = tool, strings.TrimSuffix(strings.Join(text, "\n"), ";")
				out = append(out, cur)
				cur, text = biStatement{}, nil
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBIToolConnectQueries replays what Metabase, Grafana and DBeaver send
// at connect and sync time: every statement succeeds, metadata costs no
// Stripe call, and lists are not empty.
func TestBIToolConnectQueries(t *testing.T) {
	stmts := readBIStatements(t, "../testdata/bi/connect_queries.sql")
	if len(stmts) < 30 {
		t.Fatalf("only %d statements in the testdata", len(stmts))
	}
	e := newEnv(t)
	ctx := context.Background()
	conn := pinnedConn(t, e)
	tools := map[string]int{}
	for _, s := range stmts {
		e.emu.ResetRequests()
		rows, err := conn.QueryContext(ctx, s.query)
		if err != nil {
			t.Errorf("line %d (%s): %s: %v", s.line, s.tool, s.query, err)
			continue
		}
		n := 0
		var first string
		for rows.Next() {
			if n == 0 && s.first != nil {
				first = firstColumn(t, rows)
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Errorf("line %d (%s): %v", s.line, s.tool, err)
		}
		rows.Close()
		if s.noRows && n != 0 {
			t.Errorf("line %d (%s): %d rows, want none: %s", s.line, s.tool, n, s.query)
		}
		if s.first != nil && (n == 0 || first != *s.first) {
			t.Errorf("line %d (%s): first value %q (%d rows), want %q: %s", s.line, s.tool, first, n, *s.first, s.query)
		}
		if n < s.minRows {
			t.Errorf("line %d (%s): %d rows, want at least %d: %s", s.line, s.tool, n, s.minRows, s.query)
		}
		if calls := len(e.emu.Requests()); s.zeroCalls && calls != 0 {
			t.Errorf("line %d (%s): %d Stripe calls for a metadata statement: %s", s.line, s.tool, calls, s.query)
		}
		tools[s.tool]++
	}
	t.Logf("%d statements replayed: %v", len(stmts), tools)
}

// firstColumn returns the current row's first column as the server sent
// it (text protocol), "NULL" for NULL.
func firstColumn(t *testing.T, rows *sql.Rows) string {
	t.Helper()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	dest := make([]any, len(cols))
	var first sql.RawBytes
	dest[0] = &first
	for i := 1; i < len(dest); i++ {
		dest[i] = new(sql.RawBytes)
	}
	if err := rows.Scan(dest...); err != nil {
		t.Fatal(err)
	}
	if first == nil {
		return "NULL"
	}
	return string(first)
}
