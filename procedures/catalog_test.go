package procedures

import (
	"net/url"
	"strings"
	"testing"

	"github.com/dolthub/vitess/go/vt/sqlparser"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/stripeapi"
	"github.com/stripesql/stripesql/tables"
)

// Every procedure of the whole catalog registers: the hand-written ones
// keep their names, generated ones for the same endpoints give way, and
// every listed CREATE PROCEDURE parses (SHOW PROCEDURE STATUS parses them
// all; Stripe's parameter names include MySQL keywords such as Lines).
func TestGeneratedActionsBecomeProcedures(t *testing.T) {
	cat := catalog.All()
	db := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: cat, Client: mustClient(t)})
	procs, err := All(db)
	if err != nil {
		t.Fatal(err)
	}
	list, err := describe(cat)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, p := range procs {
		names[p.Name]++
	}
	if len(names) != len(list) || len(list) < 80 {
		t.Errorf("%d procedure names, %d described; want the same, at least 80", len(names), len(list))
	}
	for _, gone := range []string{"AttachPaymentMethod", "DetachPaymentMethod", "MarkUncollectibleInvoice"} {
		if names[gone] > 0 {
			t.Errorf("%s is registered beside the hand-written procedure for its endpoint", gone)
		}
	}
	for _, want := range []string{"ExpireCheckoutSession", "RejectAccount", "AdvanceTestClock", "CloseChargeDispute", "AttachPaymentMethodToCustomer"} {
		if names[want] == 0 {
			t.Errorf("no procedure %s", want)
		}
	}
	for _, a := range list {
		if _, err := sqlparser.Parse(a.createStatement()); err != nil {
			t.Errorf("%s: the listed statement does not parse: %v", a.name, err)
		}
	}
}

// information_schema.ROUTINES.ROUTINE_DEFINITION is the body GMS cuts out
// of the listed statement at the parser's positions (planbuilder
// buildCreateProcedure): it is the whole SELECT, not "ELECT …", and the
// data access is what the Stripe call does.
func TestListedBodyIsWhole(t *testing.T) {
	list, err := describe(catalog.All())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		stmt := a.createStatement()
		parsed, err := sqlparser.Parse(stmt)
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		ddl, ok := parsed.(*sqlparser.DDL)
		if !ok {
			t.Fatalf("%s parses as %T", a.name, parsed)
		}
		body := strings.TrimSpace(stmt[ddl.SubStatementPositionStart:ddl.SubStatementPositionEnd])
		if want := "SELECT 'stripesql built-in procedure'"; body != want {
			t.Errorf("%s: ROUTINE_DEFINITION would be %q, want %q", a.name, body, want)
		}
		access := ""
		for _, c := range ddl.ProcedureSpec.Characteristics {
			if c.Type == sqlparser.CharacteristicValue_ModifiesSqlData || c.Type == sqlparser.CharacteristicValue_ReadsSqlData {
				access = strings.ToUpper(string(c.Type))
			}
		}
		if want := map[bool]string{true: "READS SQL DATA", false: "MODIFIES SQL DATA"}[a.method == "GET"]; access != want {
			t.Errorf("%s (%s): data access %q, want %q", a.name, a.method, access, want)
		}
	}
}

// A generated procedure sends its path ids, its required parameters and
// the optional ones given; NULL, ” and 0 leave an optional one out, a
// boolean is text, JSON becomes bracket parameters.
func TestGeneratedProcedureArguments(t *testing.T) {
	list, err := describe(catalog.All())
	if err != nil {
		t.Fatal(err)
	}
	find := func(name string) action {
		for _, a := range list {
			if a.name == name {
				return a
			}
		}
		t.Fatalf("no procedure %s", name)
		return action{}
	}
	// call returns the request the arguments make, or the error.
	call := func(a action, args ...any) (string, error) {
		params := append(append([]param(nil), a.required()...), a.optional...)[:len(args)]
		path := a.path
		var form stripeapi.Params
		for i, p := range params {
			if err := a.add(&path, &form, p, args[i]); err != nil {
				return "", err
			}
		}
		body, _ := url.QueryUnescape(form.Encode())
		return strings.TrimSpace(a.method + " " + path + " " + body), nil
	}
	cases := []struct {
		proc string
		args []any
		want string
	}{
		{"AddLinesInvoice", []any{"in_1", `[{"price":"price_1","quantity":2}]`},
			"POST /v1/invoices/in_1/add_lines lines[0][price]=price_1&lines[0][quantity]=2"},
		{"ExpireCheckoutSession", []any{"cs_1"}, "POST /v1/checkout/sessions/cs_1/expire"},
		{"VerifyCustomerBankAccount", []any{"cus_1", "ba_1"}, "POST /v1/customers/cus_1/bank_accounts/ba_1/verify"},
		{"CancelSubscriptionSchedule", []any{"sub_sched_1", "", "1"}, "POST /v1/subscription_schedules/sub_sched_1/cancel prorate=true"},
		{"IncrementAuthorizationPaymentIntent", []any{"pi_1", int64(0)}, "POST /v1/payment_intents/pi_1/increment_authorization amount=0"},
	}
	for _, tc := range cases {
		got, err := call(find(tc.proc), tc.args...)
		if err != nil || got != tc.want {
			t.Errorf("%s%v: %s, %v; want %s", tc.proc, tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		proc string
		args []any
		err  string
	}{
		{"AddLinesInvoice", []any{"in_1", "not json"}, "Lines must be JSON"},
		{"AddLinesInvoice", []any{"in_1", ""}, "Lines is required"},
		{"ExpireCheckoutSession", []any{" "}, "CheckoutSessionId is required"},
		{"CancelSubscriptionSchedule", []any{"sub_sched_1", "maybe"}, "want true or false"},
	} {
		if _, err := call(find(tc.proc), tc.args...); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s%v: err = %v, want %q", tc.proc, tc.args, err, tc.err)
		}
	}
}

// What a procedure returns comes from the catalog's action entries, for
// the hand-written procedures as for the generated ones: every result
// table exists in the catalog that serves it (the whole one, and the
// connector contract's tables alone, which have no action entries), the
// hand-written ones return the object their endpoint's catalog entry
// declares, and the route a catalog without entries takes (the table
// whose objects the endpoint acts on) gives the same table.
func TestEveryActionsResultTableExists(t *testing.T) {
	all := catalog.All()
	for _, ca := range all.Actions() {
		if ca.Table == "" {
			continue
		}
		if tbl, ok := all.Lookup(ca.Table); !ok || tbl.Object != ca.Object {
			t.Errorf("catalog action %s returns %s rows (a %s), which the catalog has not as that object's table", ca.Name, ca.Table, ca.Object)
		}
	}
	byEndpoint := map[string]*catalog.Action{}
	for _, ca := range all.Actions() {
		byEndpoint[ca.Method+" "+shape(ca.Path)] = ca
	}
	for _, cat := range []*catalog.Catalog{all, catalog.Builtin()} {
		list, err := describe(cat)
		if err != nil {
			t.Fatal(err)
		}
		db := tables.NewDatabase(tables.Config{Name: "stripe", Catalog: cat, Client: mustClient(t)})
		for i, a := range list {
			if a.table != "" {
				if _, err := db.ResultColumns(a.table); err != nil {
					t.Errorf("%s returns %s rows: %v", a.name, a.table, err)
				}
			}
			if i >= len(actions) || a.invoiceID {
				continue
			}
			ca := byEndpoint[a.method+" "+shape(a.path)]
			want := ""
			if ca != nil {
				want = ca.Table
			} else if tbl := objectTable(all, a.path); tbl != nil {
				want = tbl.Name // a table's own DELETE (CancelSubscription)
			}
			if a.table == "" || a.table != want {
				t.Errorf("%s returns %q rows, want %q (the catalog's for %s %s)", a.name, a.table, want, a.method, a.path)
			}
		}
	}
	for proc, want := range map[string]string{"FinalizeInvoice": "Invoices", "CancelSubscription": "Subscriptions", "RefundCharge": "Charges",
		"AttachPaymentMethodToCustomer": "PaymentMethods", "CancelQuote": "Quotes", "ConfirmPaymentIntent": "PaymentIntents", "AcceptQuote": ""} {
		list, _ := describe(catalog.Builtin())
		for _, a := range list {
			if a.name == proc && a.table != want {
				t.Errorf("%s on the contract's tables returns %q rows, want %q", proc, a.table, want)
			}
		}
	}
}

// A catalog that cannot say what a hand-written procedure returns (it
// lacks the table) is an error naming the procedure, not a procedure
// that quietly returns only Success.
func TestHandWrittenProcedureWithoutItsTableIsAnError(t *testing.T) {
	all := catalog.All()
	var tbls []*catalog.Table
	for _, name := range []string{"Customers", "TestClocks"} {
		tbl, ok := all.Lookup(name)
		if !ok {
			t.Fatalf("no table %s", name)
		}
		tbls = append(tbls, tbl)
	}
	cat, err := catalog.New(tbls...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = describe(cat)
	if err == nil || !strings.Contains(err.Error(), "procedure ConfirmPaymentIntent") || !strings.Contains(err.Error(), "/v1/payment_intents/{id}/confirm") {
		t.Fatalf("describe over Customers alone: %v, want an error naming ConfirmPaymentIntent and its endpoint", err)
	}
}
