package aggregates

import (
	"fmt"
	"strings"
	"testing"

	sqle "github.com/dolthub/go-mysql-server"
	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// funcProvider serves Functions ahead of the built-ins, as the server's
// provider does.
type funcProvider struct{ *memory.DbProvider }

func (p funcProvider) Function(_ *sql.Context, _, name string) (sql.Function, bool) {
	for _, f := range Functions() {
		if f.FunctionName() == strings.ToLower(name) {
			return f, true
		}
	}
	return nil, false
}

func newEngine(t *testing.T) (*sqle.Engine, *sql.Context) {
	t.Helper()
	db := memory.NewDatabase("db")
	pro := memory.NewDBProvider(db)
	engine := sqle.NewDefault(funcProvider{pro})
	ctx := sql.NewContext(t.Context(), sql.WithSession(memory.NewSession(sql.NewBaseSession(), pro)))
	ctx.SetCurrentDatabase("db")
	for _, q := range []string{
		"CREATE TABLE t (g INT, amount BIGINT, small INT, price DECIMAL(10,2), ratio DOUBLE, name TEXT)",
		// 2^53+1 and friends: a float64 sum loses the last digits.
		"INSERT INTO t VALUES (1, 9007199254740993, 1, 10.01, 0.5, 'a'), (1, 2, 2, 0.02, 0.25, 'b'), (2, 1653750, 3, NULL, NULL, 'c'), (2, NULL, NULL, 3.33, 1.0, 'd')",
	} {
		run(t, engine, ctx, q)
	}
	return engine, ctx
}

func run(t *testing.T, e *sqle.Engine, ctx *sql.Context, q string) (sql.Schema, []sql.Row) {
	t.Helper()
	sch, iter, _, err := e.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	rows, err := sql.RowIterToRows(ctx, iter)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return sch, rows
}

func text(v any) string {
	if v == nil {
		return "NULL"
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

func TestTypesAndValuesFollowMySQL(t *testing.T) {
	e, ctx := newEngine(t)
	cases := []struct {
		q, typ, val string
	}{
		{"SELECT SUM(amount) FROM t", "decimal(41,0)", "9007199256394745"},
		{"SELECT AVG(amount) FROM t", "decimal(23,4)", "3002399752131581.6667"},
		{"SELECT SUM(small) FROM t", "decimal(32,0)", "6"},
		{"SELECT AVG(small) FROM t", "decimal(14,4)", "2.0000"},
		{"SELECT SUM(price) FROM t", "decimal(32,2)", "13.36"},
		{"SELECT AVG(price) FROM t", "decimal(14,6)", "4.453333"},
		{"SELECT SUM(DISTINCT small) FROM t", "decimal(32,0)", "6"},
		{"SELECT SUM(ratio) FROM t", "double", "1.75"},
		{"SELECT AVG(ratio) FROM t", "double", "0.5833333333333334"},
		{"SELECT SUM(amount) FROM t WHERE g = 3", "decimal(41,0)", "NULL"},
		{"SELECT AVG(amount) FROM t WHERE g = 3", "decimal(23,4)", "NULL"},
		// Division of the exact sum stays exact (MySQL adds 4 decimals).
		{"SELECT SUM(amount)/100 FROM t WHERE g = 2", "", "16537.5000"},
	}
	for _, c := range cases {
		sch, rows := run(t, e, ctx, c.q)
		if len(rows) != 1 || len(rows[0]) != 1 {
			t.Fatalf("%s: rows %v", c.q, rows)
		}
		if c.typ != "" && sch[0].Type.String() != c.typ {
			t.Errorf("%s: type %s, want %s", c.q, sch[0].Type, c.typ)
		}
		if c.typ == "" && !types.IsDecimal(sch[0].Type) {
			t.Errorf("%s: type %s, want a decimal", c.q, sch[0].Type)
		}
		if got := text(rows[0][0]); got != c.val {
			t.Errorf("%s = %s, want %s", c.q, got, c.val)
		}
	}
}

func TestGroupedAndWindowed(t *testing.T) {
	e, ctx := newEngine(t)
	sch, rows := run(t, e, ctx, "SELECT g, SUM(amount) AS s, AVG(price) FROM t GROUP BY g ORDER BY g")
	if sch[1].Name != "s" || sch[1].Type.String() != "decimal(41,0)" {
		t.Errorf("column %s %s", sch[1].Name, sch[1].Type)
	}
	got := fmt.Sprint(text(rows[0][1]), " ", text(rows[0][2]), " ", text(rows[1][1]), " ", text(rows[1][2]))
	if want := "9007199254740995 5.015000 1653750 3.330000"; got != want {
		t.Errorf("grouped: %s, want %s", got, want)
	}
	sch, rows = run(t, e, ctx, "SELECT name, SUM(small) OVER (PARTITION BY g) FROM t ORDER BY name")
	if !types.IsDecimal(sch[1].Type) {
		t.Errorf("window type %s", sch[1].Type)
	}
	var w []string
	for _, r := range rows {
		w = append(w, text(r[1]))
	}
	if strings.Join(w, ",") != "3,3,3,3" {
		t.Errorf("window sums %v", w)
	}
}
