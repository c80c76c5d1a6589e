package pushdown

import (
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/expression/function/json"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/stripesql/stripesql/catalog"
)

func field(name string) sql.Expression { return expression.NewGetField(0, types.Text, name, true) }

func lit(v any) sql.Expression {
	switch v.(type) {
	case nil:
		return expression.NewLiteral(nil, types.Null)
	case string:
		return expression.NewLiteral(v, types.LongText)
	case int8:
		return expression.NewLiteral(v, types.Int8)
	default:
		return expression.NewLiteral(v, types.Int64)
	}
}

func metadata(key string) sql.Expression {
	ctx := sql.NewEmptyContext()
	extract, err := json.NewJSONExtract(ctx, field("Metadata"), lit("$."+key))
	if err != nil {
		panic(err)
	}
	return json.NewJSONUnquote(ctx, extract)
}

func eq(a, b sql.Expression) sql.Expression { return expression.NewEquals(a, b) }

func in(col string, vals ...any) sql.Expression {
	var t expression.Tuple
	for _, v := range vals {
		t = append(t, lit(v))
	}
	return expression.NewInTuple(field(col), t)
}

func TestBuild(t *testing.T) {
	cat := catalog.Builtin()
	cases := []struct {
		name, table string
		where       []sql.Expression
		want        string
	}{
		{"id point get", "Customers", []sql.Expression{eq(field("Id"), lit("cus_1"))},
			"GET /v1/customers/cus_1"},
		{"id literal first", "Customers", []sql.Expression{eq(lit("cus_1"), field("id"))},
			"GET /v1/customers/cus_1"},
		{"id IN deduplicated", "Customers", []sql.Expression{in("Id", "cus_a", "cus_b", "cus_a")},
			"GET /v1/customers/cus_a; GET /v1/customers/cus_b"},
		{"id OR id", "Customers", []sql.Expression{expression.NewOr(eq(field("Id"), lit("cus_a")), eq(field("Id"), lit("cus_b")))},
			"GET /v1/customers/cus_a; GET /v1/customers/cus_b"},
		{"a string no id can be makes no call", "Customers", []sql.Expression{eq(field("Id"), lit("a/../b"))},
			"no Stripe call (the filter is never true)"},
		{"dot-dot cannot climb", "Customers", []sql.Expression{eq(field("Id"), lit(".."))},
			"no Stripe call (the filter is never true)"},
		{"ids with a space are no ids", "Cards", []sql.Expression{eq(field("CustomerId"), lit("cus_x y"))},
			"no Stripe call (the filter is never true)"},
		{"custom product ids keep hyphens", "Products", []sql.Expression{eq(field("Id"), lit("gold-plan.v2"))},
			"GET /v1/products/gold-plan%2Ev2"},
		{"id = NULL is never true", "Customers", []sql.Expression{eq(field("Id"), lit(nil))},
			"no Stripe call (the filter is never true)"},
		{"empty id is no object", "Customers", []sql.Expression{eq(field("Id"), lit(""))},
			"no Stripe call (the filter is never true)"},
		{"id and a residual", "Customers", []sql.Expression{eq(field("Id"), lit("cus_1")), eq(field("Name"), lit("x"))},
			"GET /v1/customers/cus_1"},
		{"two list filters", "Invoices", []sql.Expression{eq(field("CustomerId"), lit("cus_x")), eq(field("Status"), lit("open"))},
			"GET /v1/invoices?customer=cus_x&status=open"},
		{"filter and created range", "Invoices", []sql.Expression{eq(field("CustomerId"), lit("cus_1")),
			expression.NewGreaterThanOrEqual(field("Created"), lit("2024-01-01"))},
			"GET /v1/invoices?customer=cus_1&created[gte]=1704067200"},
		{"range with literal first", "Customers", []sql.Expression{expression.NewLessThan(lit("2024-01-01"), field("Created"))},
			"GET /v1/customers?created[gt]=1704067200"},
		{"between", "Charges", []sql.Expression{expression.NewBetween(field("Created"), lit("2024-01-01"), lit("2024-01-02"))},
			"GET /v1/charges?created[gte]=1704067200&created[lte]=1704153600"},
		{"fractional bounds widen to whole seconds", "Charges", []sql.Expression{
			expression.NewGreaterThanOrEqual(field("Created"), lit("2024-01-01 00:00:00.5")),
			expression.NewLessThan(field("Created"), lit("2024-01-02 00:00:00.5"))},
			"GET /v1/charges?created[gte]=1704067200&created[lte]=1704153601"},
		{"tightest bounds win", "Charges", []sql.Expression{
			expression.NewGreaterThan(field("Created"), lit("2024-01-01")),
			expression.NewGreaterThanOrEqual(field("Created"), lit("2024-01-05"))},
			"GET /v1/charges?created[gte]=1704412800"},
		{"timestamp equality", "Charges", []sql.Expression{eq(field("Created"), lit("2024-01-01"))},
			"GET /v1/charges?created[gte]=1704067200&created[lte]=1704067200"},
		{"empty range", "Charges", []sql.Expression{
			expression.NewGreaterThan(field("Created"), lit("2025-01-01")),
			expression.NewLessThan(field("Created"), lit("2024-01-01"))},
			"no Stripe call (the filter is never true)"},
		{"IN on a filter is one call per value", "Invoices", []sql.Expression{in("Status", "open", "paid")},
			"GET /v1/invoices?status=open; GET /v1/invoices?status=paid"},
		{"contradictory equalities", "Invoices", []sql.Expression{eq(field("Status"), lit("open")), eq(field("Status"), lit("paid"))},
			"no Stripe call (the filter is never true)"},
		{"number against a string column is not pushed", "Customers", []sql.Expression{eq(field("Email"), lit(int64(5)))},
			"GET /v1/customers"},
		{"unfilterable column is a scan", "Customers", []sql.Expression{eq(field("Description"), lit("Ann"))},
			"GET /v1/customers"},
		{"search equality where the list cannot filter", "Customers", []sql.Expression{eq(field("Name"), lit("Ann"))},
			`GET /v1/customers/search?query=name:"Ann"`},
		{"LIKE substring", "Customers", []sql.Expression{expression.NewLike(field("Email"), lit("%smith%"), nil)},
			`GET /v1/customers/search?query=email~"smith"`},
		{"LIKE uses the longest literal run", "Customers", []sql.Expression{expression.NewLike(field("Name"), lit("a_jo%hnson%"), nil)},
			`GET /v1/customers/search?query=name~"hnson"`},
		{"LIKE with too short a run is a scan", "Customers", []sql.Expression{expression.NewLike(field("Name"), lit("%an%"), nil)},
			"GET /v1/customers"},
		{"metadata equality", "Customers", []sql.Expression{eq(metadata("tier"), lit("gold"))},
			`GET /v1/customers/search?query=metadata["tier"]:"gold"`},
		{"metadata key with odd characters", "Customers", []sql.Expression{eq(metadata(`"a b"`), lit("x"))},
			`GET /v1/customers/search?query=metadata["a b"]:"x"`},
		{"amount comparison", "PaymentIntents", []sql.Expression{expression.NewGreaterThan(field("Amount"), lit(int64(1000)))},
			`GET /v1/payment_intents/search?query=amount>1000`},
		{"amount comparison literal first", "PaymentIntents", []sql.Expression{expression.NewGreaterThan(lit(int64(1000)), field("Amount"))},
			`GET /v1/payment_intents/search?query=amount<1000`},
		{"not equal on a number", "PaymentIntents", []sql.Expression{expression.NewNot(eq(field("Amount"), lit(int64(2000))))},
			`GET /v1/payment_intents/search?query=-amount:2000`},
		{"not equal on a string is not negated (Search ignores case)", "PaymentIntents", []sql.Expression{expression.NewNot(eq(field("Currency"), lit("USD")))},
			"GET /v1/payment_intents"},
		{"several clauses are ANDed", "Charges", []sql.Expression{eq(field("Status"), lit("succeeded")), expression.NewLessThanOrEqual(field("Amount"), lit(int64(500)))},
			`GET /v1/charges/search?query=status:"succeeded" AND amount<=500`},
		{"a value cannot escape its quotes", "Customers", []sql.Expression{eq(field("Name"), lit(`x" OR email:"y\`))},
			`GET /v1/customers/search?query=name:"x\" OR email:\"y\\"`},
		{"OR of search clauses is one query", "Customers", []sql.Expression{expression.NewOr(
			expression.NewLike(field("Name"), lit("%ann%"), nil), expression.NewLike(field("Email"), lit("%ann%"), nil))},
			`GET /v1/customers/search?query=name~"ann" OR email~"ann"`},
		{"list filter beats search", "Customers", []sql.Expression{eq(field("Email"), lit("a@b.c")), eq(field("Name"), lit("Ann"))},
			"GET /v1/customers?email=a%40b.c"},
		{"OR across list columns is a union", "Invoices", []sql.Expression{expression.NewOr(
			eq(field("Status"), lit("open")), eq(field("CustomerId"), lit("cus_1")))},
			"GET /v1/invoices?status=open; GET /v1/invoices?customer=cus_1"},
		{"OR with a branch that cannot narrow is a scan", "Invoices", []sql.Expression{expression.NewOr(
			eq(field("Status"), lit("open")), eq(field("Footer"), lit("x")))},
			"GET /v1/invoices"},
		{"AND distributes over OR", "Invoices", []sql.Expression{eq(field("CustomerId"), lit("cus_1")), expression.NewOr(
			eq(field("Status"), lit("open")), eq(field("Status"), lit("paid")))},
			"GET /v1/invoices?customer=cus_1&status=open; GET /v1/invoices?customer=cus_1&status=paid"},
		{"OR of an id and a list filter", "Customers", []sql.Expression{expression.NewOr(
			eq(field("Id"), lit("cus_1")), eq(field("Email"), lit("a@b.c")))},
			"GET /v1/customers/cus_1; GET /v1/customers?email=a%40b.c"},
		{"prices scan active and inactive", "Prices", nil,
			"GET /v1/prices?active=true; GET /v1/prices?active=false"},
		{"pinned active", "Prices", []sql.Expression{eq(field("Active"), lit(int8(1)))},
			"GET /v1/prices?active=true"},
		{"'true' is 0 in MySQL, so not pushed", "Prices", []sql.Expression{eq(field("Active"), lit("true"))},
			"GET /v1/prices?active=true; GET /v1/prices?active=false"},
		{"prices of a product, both visibilities", "Prices", []sql.Expression{eq(field("Product"), lit("prod_1"))},
			"GET /v1/prices?product=prod_1&active=true; GET /v1/prices?product=prod_1&active=false"},
		{"subscriptions include canceled", "Subscriptions", nil,
			"GET /v1/subscriptions?status=all"},
		{"subscription status pinned", "Subscriptions", []sql.Expression{eq(field("Status"), lit("canceled"))},
			"GET /v1/subscriptions?status=canceled"},
		{"cards of one customer", "Cards", []sql.Expression{eq(field("CustomerId"), lit("cus_1"))},
			"GET /v1/customers/cus_1/sources?object=card"},
		{"one card", "Cards", []sql.Expression{eq(field("CustomerId"), lit("cus_1")), eq(field("Id"), lit("card_1"))},
			"GET /v1/customers/cus_1/sources/card_1"},
		{"cards without customer fan out", "Cards", nil,
			"GET /v1/customers/{customer}/sources?object=card for each {customer} in [GET /v1/customers]"},
		{"card by id alone still fans out", "Cards", []sql.Expression{eq(field("Id"), lit("card_1"))},
			"GET /v1/customers/{customer}/sources?object=card for each {customer} in [GET /v1/customers]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tbl, ok := cat.Lookup(tc.table)
			if !ok {
				t.Fatalf("no table %s", tc.table)
			}
			opts := Options{Search: true}
			plan := Resolve(Build(sql.NewEmptyContext(), tbl, tc.where, opts), cat, opts)
			if got := plan.String(); got != tc.want {
				t.Errorf("plan = %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestIsFullScan(t *testing.T) {
	cat := catalog.Builtin()
	customers, _ := cat.Lookup("Customers")
	ctx := sql.NewEmptyContext()
	if !Build(ctx, customers, []sql.Expression{eq(field("Description"), lit("x"))}, Options{Search: true}).IsFullScan() {
		t.Error("Description is neither a list filter nor a Search field, yet the plan narrows")
	}
	if Build(ctx, customers, []sql.Expression{eq(field("Email"), lit("a@b.c"))}, Options{}).IsFullScan() {
		t.Error("Email equality should narrow the list call")
	}
	if !Build(ctx, customers, []sql.Expression{eq(field("Name"), lit("x"))}, Options{Search: false}).IsFullScan() {
		t.Error("with Search off, Name equality cannot narrow")
	}
}

func TestCallStringEscapesValues(t *testing.T) {
	c := Call{Kind: List, Path: "/v1/customers", Params: []catalog.Param{{Key: "email", Value: "a&b=c@x.io"}}}
	if got := c.String(); !strings.HasSuffix(got, "email=a%26b%3Dc%40x.io") {
		t.Errorf("String() = %q: the value must not be able to add parameters", got)
	}
}

func TestBuildWithTestClocks(t *testing.T) {
	cat := catalog.Builtin()
	cases := []struct {
		name, table string
		where       []sql.Expression
		want        string
	}{
		{"test-clock customers are read clock by clock", "Customers", nil,
			"GET /v1/customers; GET /v1/customers?test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]"},
		{"a filter keeps its value in the clock scan", "Customers", []sql.Expression{eq(field("Email"), lit("a@b.c"))},
			"GET /v1/customers?email=a%40b.c; GET /v1/customers?email=a%40b.c&test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]"},
		{"naming the clock needs no clock scan", "Customers", []sql.Expression{eq(field("TestClock"), lit("clock_1"))},
			"GET /v1/customers?test_clock=clock_1"},
		{"a customer's invoices show its test-clock ones", "Invoices", []sql.Expression{eq(field("CustomerId"), lit("cus_1"))},
			"GET /v1/invoices?customer=cus_1"},
		{"invoices on clocks are read through the clocks' customers", "Invoices", []sql.Expression{eq(field("Status"), lit("open"))},
			"GET /v1/invoices?status=open; GET /v1/invoices?status=open&customer={customer} for each {customer} in [GET /v1/customers?test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]]"},
		{"subscriptions include canceled and test-clock ones", "Subscriptions", nil,
			"GET /v1/subscriptions?status=all; GET /v1/subscriptions?status=all&test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]"},
		{"retrieve needs no clock scan", "Customers", []sql.Expression{eq(field("Id"), lit("cus_1"))},
			"GET /v1/customers/cus_1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tbl, _ := cat.Lookup(tc.table)
			opts := Options{Search: true, TestClocks: true}
			plan := Resolve(Build(sql.NewEmptyContext(), tbl, tc.where, opts), cat, opts)
			if got := plan.String(); got != tc.want {
				t.Errorf("plan = %q\n want %q", got, tc.want)
			}
		})
	}
}

// A fan-out fills only its own parameter: a user's value that reads like
// the placeholder is sent as written.
func TestForParentFillsOnlyItsParameter(t *testing.T) {
	c := Call{Kind: List, Path: "/v1/customers", FillParam: "test_clock",
		Params: []catalog.Param{{Key: "email", Value: "{test_clock}"}, {Key: "test_clock", Value: "{test_clock}"}}}
	got := c.ForParent("{test_clock}", "clock_1").String()
	if want := "GET /v1/customers?email=%7Btest_clock%7D&test_clock=clock_1"; got != want {
		t.Errorf("ForParent = %q, want %q", got, want)
	}
}

func TestClockScanSharesOneCallPerClock(t *testing.T) {
	cat := catalog.Builtin()
	invoices, _ := cat.Lookup("Invoices")
	opts := Options{TestClocks: true}
	plan := Resolve(Build(sql.NewEmptyContext(), invoices, []sql.Expression{in("Status", "void", "uncollectible")}, opts), cat, opts)
	want := "GET /v1/invoices?status=void; GET /v1/invoices?status=uncollectible; " +
		"GET /v1/invoices?customer={customer} for each {customer} in [GET /v1/customers?test_clock={test_clock} for each {test_clock} in [GET /v1/test_helpers/test_clocks]]"
	if got := plan.String(); got != want {
		t.Errorf("plan = %q\n want %q", got, want)
	}
}
