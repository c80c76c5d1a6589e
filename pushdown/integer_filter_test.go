package pushdown

import (
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"

	"github.com/stripesql/stripesql/catalog"
)

// Integer list filters (a card's exp_month, a top-up's amount range) take
// integer literals only; equality on a range filter is the range [v, v].
func TestIntegerFilters(t *testing.T) {
	cat := catalog.All()
	ctx := sql.NewEmptyContext()
	cases := []struct {
		name, table string
		where       []sql.Expression
		want        string
	}{
		{"equality", "IssuingCards", []sql.Expression{eq(field("ExpMonth"), lit(int64(12)))},
			"GET /v1/issuing/cards?exp_month=12"},
		{"IN list", "IssuingCards", []sql.Expression{in("ExpYear", int64(2030), int64(2031))},
			"GET /v1/issuing/cards?exp_year=2030; GET /v1/issuing/cards?exp_year=2031"},
		{"a string literal compares as MySQL converts it", "IssuingCards", []sql.Expression{eq(field("ExpMonth"), lit("12"))},
			"GET /v1/issuing/cards"},
		{"range", "Topups", []sql.Expression{expression.NewGreaterThan(field("Amount"), lit(int64(500))),
			expression.NewLessThanOrEqual(field("Amount"), lit(int64(900)))},
			"GET /v1/topups?amount[gt]=500&amount[lte]=900"},
		{"equality on a range filter", "Topups", []sql.Expression{eq(field("Amount"), lit(int64(700)))},
			"GET /v1/topups?amount[gte]=700&amount[lte]=700"},
		{"literal first", "Topups", []sql.Expression{expression.NewLessThan(lit(int64(5)), field("Amount"))},
			"GET /v1/topups?amount[gt]=5"},
		{"contradiction", "Topups", []sql.Expression{expression.NewGreaterThan(field("Amount"), lit(int64(5))), expression.NewLessThan(field("Amount"), lit(int64(3)))},
			"no Stripe call (the filter is never true)"},
	}
	for _, tc := range cases {
		tbl, ok := cat.Lookup(tc.table)
		if !ok {
			t.Fatalf("no table %s", tc.table)
		}
		if got := Build(ctx, tbl, tc.where, Options{}).String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// Stripe rejects a list parameter value outside its enum with an error;
// SQL answers such a WHERE with rows or none. So the value is not sent.
func TestValuesOutsideAnEnumAreNotSent(t *testing.T) {
	cat := catalog.All()
	ctx := sql.NewEmptyContext()
	cases := []struct {
		name, table string
		where       []sql.Expression
		want        string
	}{
		{"in the enum", "Invoices", []sql.Expression{eq(field("Status"), lit("open"))},
			"GET /v1/invoices?status=open"},
		{"outside the enum", "Invoices", []sql.Expression{eq(field("Status"), lit("GOLD"))},
			"GET /v1/invoices"},
		{"one value of an IN list outside", "PaymentMethods", []sql.Expression{in("Type", "card", "gold")},
			"GET /v1/payment_methods"},
		{"nested parameter", "Prices", []sql.Expression{eq(field("RecurringInterval"), lit("fortnight"))},
			"GET /v1/prices?active=true; GET /v1/prices?active=false"},
	}
	for _, tc := range cases {
		tbl, _ := cat.Lookup(tc.table)
		if got := Build(ctx, tbl, tc.where, Options{}).String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
