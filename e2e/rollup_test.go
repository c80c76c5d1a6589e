package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestRollupAsMySQL: GROUP BY … WITH ROLLUP (Metabase's and Superset's
// subtotals) returns MySQL's rows in MySQL's order. The expected rows are
// computed here from the plain GROUP BY's rows: each (currency, status)
// group in order, after a currency's groups its subtotal with Status NULL,
// the grand total last.
func TestRollupAsMySQL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conn := pinnedConn(t, e)
	rowsOf := func(q string, args ...any) [][]string {
		t.Helper()
		return connRows(t, conn, q, args...)
	}
	type group struct {
		currency, status string
		n, total         int64
	}
	var groups []group
	for _, r := range rowsOf("SELECT Currency, Status, COUNT(*), SUM(Amount) FROM Charges GROUP BY Currency, Status") {
		var g group
		g.currency, g.status = r[0], r[1]
		fmt.Sscan(r[2], &g.n)
		fmt.Sscan(r[3], &g.total)
		groups = append(groups, g)
	}
	if len(groups) < 3 {
		t.Fatalf("only %d groups in the demo", len(groups))
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].currency != groups[j].currency {
			return groups[i].currency < groups[j].currency
		}
		return groups[i].status < groups[j].status
	})
	var want []string
	var sub, all group
	flush := func() {
		want = append(want, fmt.Sprintf("%s NULL %d %d", sub.currency, sub.n, sub.total))
	}
	for i, g := range groups {
		if i > 0 && g.currency != groups[i-1].currency {
			flush()
			sub = group{}
		}
		want = append(want, fmt.Sprintf("%s %s %d %d", g.currency, g.status, g.n, g.total))
		sub.currency, sub.n, sub.total = g.currency, sub.n+g.n, sub.total+g.total
		all.n, all.total = all.n+g.n, all.total+g.total
	}
	flush()
	want = append(want, fmt.Sprintf("NULL NULL %d %d", all.n, all.total))

	join := func(rows [][]string) []string {
		var out []string
		for _, r := range rows {
			out = append(out, strings.Join(r, " "))
		}
		return out
	}
	q := "SELECT Currency, Status, COUNT(*) AS n, SUM(Amount) AS total FROM Charges GROUP BY Currency, Status WITH ROLLUP"
	if got := join(rowsOf(q)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant (from the plain GROUP BY):\n%s", q, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// As a prepared statement with a parameter, the same rows.
	if got := join(rowsOf("SELECT Currency, Status, COUNT(*) AS n, SUM(Amount) AS total FROM Charges WHERE Amount >= ? GROUP BY Currency, Status WITH ROLLUP", 0)); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("prepared:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The column names are the statement's.
	rows, err := conn.QueryContext(ctx, "SELECT Currency, COUNT(*) FROM Charges GROUP BY Currency WITH ROLLUP")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	rows.Close()
	if strings.Join(cols, ",") != "Currency,COUNT(*)" {
		t.Errorf("columns %v, want Currency, COUNT(*)", cols)
	}

	// Metabase's year truncation with a total, in its ORDER BY: the total
	// (NULL) first, as MySQL sorts NULL before values.
	years := rowsOf("SELECT makedate(year(`Charges`.`Created`), 1) AS `Created`, sum(`Charges`.`Amount`) AS `sum` FROM `Charges` GROUP BY makedate(year(`Charges`.`Created`), 1) ORDER BY makedate(year(`Charges`.`Created`), 1) ASC")
	wantYears := []string{fmt.Sprintf("NULL %d", all.total)}
	wantYears = append(wantYears, join(years)...)
	gotYears := join(rowsOf("SELECT makedate(year(`Charges`.`Created`), 1) AS `Created`, sum(`Charges`.`Amount`) AS `sum` FROM `Charges` GROUP BY makedate(year(`Charges`.`Created`), 1) WITH ROLLUP ORDER BY makedate(year(`Charges`.`Created`), 1) ASC"))
	if strings.Join(gotYears, "\n") != strings.Join(wantYears, "\n") {
		t.Errorf("Metabase's yearly sums with a total:\n%s\nwant:\n%s", strings.Join(gotYears, "\n"), strings.Join(wantYears, "\n"))
	}

	// A ROLLUP the rewrite does not cover says what to do.
	_, err = conn.ExecContext(ctx, "SELECT Currency, COUNT(*) FROM Charges GROUP BY Currency WITH ROLLUP ORDER BY Amount")
	if err == nil || !strings.Contains(err.Error(), "1235") || !strings.Contains(err.Error(), "order by a selected column") {
		t.Errorf("ROLLUP ordered by an unselected column: %v", err)
	}
}
