package server

import "testing"

func TestExplainAsTree(t *testing.T) {
	for in, want := range map[string]string{
		"EXPLAIN SELECT * FROM t":                "EXPLAIN FORMAT=TREE  SELECT * FROM t",
		"  explain\nselect 1":                    "EXPLAIN FORMAT=TREE \nselect 1",
		"DESC SELECT 1":                          "EXPLAIN FORMAT=TREE  SELECT 1",
		"explain (select 1)":                     "EXPLAIN FORMAT=TREE  (select 1)",
		"EXPLAIN FORMAT=TREE SELECT 1":           "EXPLAIN FORMAT=TREE SELECT 1",
		"EXPLAIN PLAN SELECT 1":                  "EXPLAIN PLAN SELECT 1",
		"EXPLAIN ANALYZE SELECT 1":               "EXPLAIN ANALYZE SELECT 1",
		"DESCRIBE Invoices":                      "DESCRIBE Invoices",
		"SELECT 'EXPLAIN SELECT'":                "SELECT 'EXPLAIN SELECT'",
		"EXPLAIN UPDATE t SET a = 1 WHERE b = 2": "EXPLAIN FORMAT=TREE  UPDATE t SET a = 1 WHERE b = 2",
	} {
		if got := explainAsTree(in); got != want {
			t.Errorf("explainAsTree(%q) = %q, want %q", in, got, want)
		}
	}
}
