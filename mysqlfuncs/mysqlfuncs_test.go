package mysqlfuncs

import (
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
)

func lit(v any) sql.Expression {
	switch v.(type) {
	case string:
		return expression.NewLiteral(v, types.LongText)
	case nil:
		return expression.NewLiteral(nil, types.Null)
	}
	return expression.NewLiteral(v, types.Int64)
}

func eval(t *testing.T, e sql.Expression) any {
	t.Helper()
	v, err := e.Eval(sql.NewEmptyContext(), nil)
	if err != nil {
		t.Fatalf("%s: %v", e, err)
	}
	return v
}

func date(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}

func TestMakeDate(t *testing.T) {
	ctx := sql.NewEmptyContext()
	// Expected values are MySQL 8.0's.
	for _, tc := range []struct {
		year, day any
		want      any
	}{
		{int64(2020), int64(1), date("2020-01-01")},
		{int64(2011), int64(32), date("2011-02-01")},
		{int64(2011), int64(366), date("2012-01-01")},
		{int64(2020), int64(366), date("2020-12-31")},
		{int64(69), int64(1), date("2069-01-01")},
		{int64(70), int64(1), date("1970-01-01")},
		{"2020", "60", date("2020-02-29")},
		{int64(2011), int64(0), nil},
		{nil, int64(1), nil},
	} {
		got := eval(t, newMakeDate(ctx, lit(tc.year), lit(tc.day)))
		if got != tc.want {
			t.Errorf("MAKEDATE(%v, %v) = %v, want %v", tc.year, tc.day, got, tc.want)
		}
	}
	if typ := newMakeDate(ctx, lit(int64(1)), lit(int64(1))).Type(ctx); typ != types.Date {
		t.Errorf("type %v, want DATE", typ)
	}
}

func TestStrToDateWeekFormats(t *testing.T) {
	ctx := sql.NewEmptyContext()
	for _, tc := range []struct {
		s, f string
		want any
	}{
		// Metabase's week truncation: yearweek('2020-03-04') is 202009.
		{"202009 Sunday", "%X%V %W", date("2020-03-01")},
		{"202001 Sunday", "%X%V %W", date("2020-01-05")},
		{"202253 Sunday", "%X%V %W", date("2023-01-01")},
		{"201901 Sunday", "%X%V %W", date("2019-01-06")},
		{"202009 Mon", "%X%V %a", date("2020-03-02")},
		{"2020 01 Monday", "%x %v %W", date("2019-12-30")},
		{"2020 53 Sunday", "%x %v %W", date("2021-01-03")},
		{"202009", "%X%V", nil},           // no weekday: NULL, as MySQL
		{"2020xx Sunday", "%X%V %W", nil}, // no week
	} {
		got := eval(t, newStrToDate(ctx, lit(tc.s), lit(tc.f)))
		if got != tc.want {
			t.Errorf("STR_TO_DATE(%q, %q) = %v, want %v", tc.s, tc.f, got, tc.want)
		}
	}
	// Other formats are the engine's.
	got := eval(t, newStrToDate(ctx, lit("2020-03-04"), lit("%Y-%m-%d")))
	if tm, ok := got.(time.Time); !ok || !tm.Equal(date("2020-03-04")) {
		t.Errorf("STR_TO_DATE('2020-03-04', '%%Y-%%m-%%d') = %v", got)
	}
}
