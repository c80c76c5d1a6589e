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
		rows, err := db.Query(q)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		cols, _ := rows.Columns()
		var got []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, v := range vals {
				if v == nil {
					parts = append(parts, "NULL")
				} else if b, ok := v.([]byte); ok {
					parts = append(parts, string(b))
				} else {
					parts = append(parts, fmtAny(v))
				}
			}
			got = append(got, strings.Join(parts, " "))
		}
		rows.Close()
		if !slicesEqual(got, want) {
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
