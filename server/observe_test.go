package server

import "testing"

func TestStatementKind(t *testing.T) {
	for q, want := range map[string]string{
		"SELECT 1":                             "select",
		"  /* tool */ select * from t":         "select",
		"-- c\nINSERT INTO t VALUES (1)":       "insert",
		"(SELECT 1) UNION (SELECT 2)":          "select",
		"update t set a=1":                     "update",
		"WITH x AS (SELECT 1) SELECT * FROM x": "with",
		"frobnicate":                           "other",
		"/* unterminated":                      "other",
	} {
		if got := statementKind(q); got != want {
			t.Errorf("statementKind(%q) = %q, want %q", q, got, want)
		}
	}
}
