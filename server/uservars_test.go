package server

import (
	"context"
	"testing"
)

func TestRewriteAssignments(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT @a := 1, @a + 1": "SELECT stripe_assign('a', 1), stripe_user_var('a', 1) + 1",
		// := binds loosest: the expression runs to the CASE branch's end,
		// the alias, the argument's comma.
		"SELECT CASE x WHEN 'a' THEN @dt:=(-6) ELSE @dt:=(-4)END AS DATA_TYPE, @dt":                          "SELECT CASE x WHEN 'a' THEN stripe_assign('dt', (-6)) ELSE stripe_assign('dt', (-4))END AS DATA_TYPE, stripe_user_var('dt', (-4))",
		"SELECT if(s IS NULL, @c:=7, @c:=p) AS n, @t:=CAST(CASE @c WHEN 1 THEN 2 END AS SIGNED) AS b FROM t": "SELECT if(s IS NULL, stripe_assign('c', 7), stripe_assign('c', p)) AS n, stripe_assign('t', CAST(CASE stripe_user_var('c', p) WHEN 1 THEN 2 END AS SIGNED)) AS b FROM t",
		"SELECT @r := @r + 1 AS n FROM t":                        "SELECT stripe_assign('r', @r + 1) AS n FROM t",
		"SELECT @a := @b := 2":                                   "SELECT stripe_assign('a', stripe_assign('b', 2))",
		"SELECT '@a := 1', `@b:=2` FROM t -- @c := 3":            "SELECT '@a := 1', `@b:=2` FROM t -- @c := 3",
		"SET @a := 1":                                            "SET @a := 1",
		"SELECT @@session.time_zone, @x FROM t WHERE y := 1 > 0": "SELECT @@session.time_zone, @x FROM t WHERE y := 1 > 0",
	} {
		if got := rewriteAssignments(in); got != want {
			t.Errorf("rewriteAssignments(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

// `@v := expr` in a select list assigns per row, left to right, and a
// later column (or row) reads the value: the classic row counter, and the
// ODBC pattern of a CASE whose every branch assigns — as text queries and
// as prepared statements.
func TestUserVariableAssignment(t *testing.T) {
	db := start(t, Config{}).open(t)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	query := func(prepared bool, q string) []string {
		t.Helper()
		var args []any
		if prepared {
			args = []any{int64(0)} // a parameter makes go-sql-driver prepare
			q += " LIMIT 10 OFFSET ?"
		}
		return rowLines(t, conn, q, args...)
	}
	for _, prepared := range []bool{false, true} {
		if _, err := conn.ExecContext(context.Background(), "SET @n = 0"); err != nil {
			t.Fatal(err)
		}
		if got := query(prepared, "SELECT @n := @n + 1 AS n, name FROM items ORDER BY id"); !slicesEqual(got, []string{"1 apple", "2 pear"}) {
			t.Errorf("prepared %v: row counter = %v", prepared, got)
		}
		got := query(prepared, "SELECT CASE name WHEN 'apple' THEN @k:=(-6) ELSE @k:=12 END AS k, @k * 2 AS twice, @w := CAST(CASE @k WHEN (-6) THEN 1 ELSE 4 END AS SIGNED) AS w, IF(id > 1, @w, NULL) AS last FROM items ORDER BY id")
		if !slicesEqual(got, []string{"-6 -12 1 NULL", "12 24 4 4"}) {
			t.Errorf("prepared %v: ODBC-style assignments = %v", prepared, got)
		}
	}
	// The variables keep their last values, as in MySQL.
	if got := query(false, "SELECT @n, @k, @w"); !slicesEqual(got, []string{"2 12 4"}) {
		t.Errorf("after the statements: @n, @k, @w = %v", got)
	}
}
