package server

import (
	"strings"
	"testing"
)

// WITH ROLLUP on the test shop's items (1 apple, 2 pear): one row per
// group, then the grand total; the level a column rolls up reads NULL in
// it, also inside an expression; a literal or comment saying WITH ROLLUP
// is left alone; what the rewrite does not cover is error 1235 saying
// what to do.
func TestRollup(t *testing.T) {
	db := start(t, Config{}).open(t)
	for q, want := range map[string][]string{
		"SELECT name, COUNT(*), SUM(id) FROM items GROUP BY name WITH ROLLUP":                    {"apple 1 1", "pear 1 2", "NULL 2 3"},
		"SELECT CONCAT(name, '!') AS n, id, SUM(id) FROM items GROUP BY name, id WITH ROLLUP":    {"apple! 1 1", "apple! NULL 1", "pear! 2 2", "pear! NULL 2", "NULL NULL 3"},
		"SELECT name, SUM(id) AS s FROM items GROUP BY 1 WITH ROLLUP ORDER BY s DESC":            {"NULL 3", "pear 2", "apple 1"},
		"SELECT name FROM items GROUP BY name WITH ROLLUP HAVING name <> 'pear' OR name IS NULL": {"apple", "NULL"},
		"SELECT name, COUNT(*) FROM items WHERE id > 5 GROUP BY name WITH ROLLUP":                nil,
		"SELECT 'GROUP BY x WITH ROLLUP' /* WITH ROLLUP */ FROM items WHERE id = 1":              {"GROUP BY x WITH ROLLUP"},
	} {
		if got := rowLines(t, db, q); !slicesEqual(got, want) {
			t.Errorf("%s = %q, want %q", q, got, want)
		}
	}
	for q, msg := range map[string]string{
		"SELECT name, COUNT(*) FROM items GROUP BY name WITH ROLLUP ORDER BY id": "order by a selected column",
		"SELECT * FROM items GROUP BY id WITH ROLLUP":                            "SELECT *",
		"SELECT DISTINCT name FROM items GROUP BY name WITH ROLLUP":              "DISTINCT",
	} {
		_, err := db.Exec(q)
		if me := mysqlError(t, err); me.Number != 1235 || !strings.Contains(me.Message, msg) || !strings.Contains(me.Message, "UNION ALL") {
			t.Errorf("%s: %v, want 1235 naming %q", q, err, msg)
		}
	}
}

// MySQL 8's reading of a subtotal row: a rolled-up grouping column is
// NULL wherever the select list or HAVING reads it outside an aggregate —
// also inside an expression that mixes it with an aggregate — while the
// aggregates are computed over the rows of the group, and a string
// literal spelling the column's name is only a string. The expected rows
// are worked out by hand from the table's five rows.
func TestRollupNullsGroupingColumnsOutsideAggregates(t *testing.T) {
	db := start(t, Config{}).open(t)
	db.SetMaxOpenConns(1) // the temporary table is the session's
	for _, q := range []string{
		"CREATE TEMPORARY TABLE c (id INT PRIMARY KEY, outcome TEXT, currency TEXT, amount INT)",
		"INSERT INTO c VALUES (1, 'paid', 'usd', 100), (2, 'paid', 'usd', 250), (3, 'paid', 'eur', 40), (4, 'failed', 'usd', 70), (5, 'refunded', 'eur', 5)",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"SELECT outcome, CONCAT(IFNULL(outcome, 'all'), ' outcome') FROM c GROUP BY outcome WITH ROLLUP",
			[]string{"failed failed outcome", "paid paid outcome", "refunded refunded outcome", "NULL all outcome"}},
		{"SELECT currency, outcome, CONCAT(currency, ':outcome'), SUM(amount) FROM c GROUP BY currency, outcome WITH ROLLUP",
			[]string{"eur paid eur:outcome 40", "eur refunded eur:outcome 5", "eur NULL eur:outcome 45",
				"usd failed usd:outcome 70", "usd paid usd:outcome 350", "usd NULL usd:outcome 420", "NULL NULL NULL 465"}},
		{"SELECT outcome, CONCAT(outcome, COUNT(*)), IFNULL(CONCAT(outcome, COUNT(*)), COUNT(*)) FROM c GROUP BY outcome WITH ROLLUP",
			[]string{"failed failed1 failed1", "paid paid3 paid3", "refunded refunded1 refunded1", "NULL NULL 5"}},
		{"SELECT outcome, IF(outcome = 'paid', SUM(amount), 0) FROM c GROUP BY outcome WITH ROLLUP",
			[]string{"failed 0", "paid 390", "refunded 0", "NULL 0"}},
		{"SELECT currency, outcome, SUM(amount) FROM c GROUP BY currency, outcome WITH ROLLUP HAVING outcome IS NULL AND COUNT(*) > 1",
			[]string{"eur NULL 45", "usd NULL 420", "NULL NULL 465"}},
		{"SELECT outcome, SUM(amount) FROM c GROUP BY outcome WITH ROLLUP HAVING outcome <> 'paid' OR SUM(amount) > 400",
			[]string{"failed 70", "refunded 5", "NULL 465"}},
		// HAVING reading a grouping column that is not a selected name.
		{"SELECT outcome AS o, SUM(amount) FROM c GROUP BY outcome WITH ROLLUP HAVING IF(outcome IS NULL, SUM(amount), 0) > 400",
			[]string{"NULL 465"}},
		{"SELECT currency, SUM(amount) FROM c GROUP BY currency, outcome WITH ROLLUP HAVING outcome IS NULL AND COUNT(*) > 1",
			[]string{"eur 45", "usd 420", "NULL 465"}},
		// The column named with its table, and inside an aggregate.
		{"SELECT c.outcome, COUNT(DISTINCT outcome), MAX(c.outcome) FROM c GROUP BY outcome WITH ROLLUP",
			[]string{"failed 1 failed", "paid 1 paid", "refunded 1 refunded", "NULL 3 refunded"}},
		{"SELECT outcome, c.outcome, COUNT(*) FROM c GROUP BY outcome WITH ROLLUP",
			[]string{"failed failed 1", "paid paid 3", "refunded refunded 1", "NULL NULL 5"}},
		// A grouping expression inside a larger one.
		{"SELECT UPPER(outcome), CONCAT(UPPER(outcome), '!'), COUNT(*) FROM c GROUP BY UPPER(outcome) WITH ROLLUP",
			[]string{"FAILED FAILED! 1", "PAID PAID! 3", "REFUNDED REFUNDED! 1", "NULL NULL 5"}},
	} {
		t.Run(c.q, func(t *testing.T) {
			if got := rowLines(t, db, c.q); !slicesEqual(got, c.want) {
				t.Errorf("%s\n = %q\nwant %q", c.q, got, c.want)
			}
		})
	}
}
