package e2e

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/specvalidate"
)

// The whole catalog through the server: at least 110 tables and 80
// procedures, the counts docs/tables.md states, and every endpoint it
// leaves out listed there with its reason.
func TestSweepServesEveryTableAndProcedure(t *testing.T) {
	mock, err := specvalidate.StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	e := startOn(t, nil, mock, catalog.All())
	var tables [][]sqlNull
	for _, r := range e.query(t, "SHOW TABLES") {
		if r[0].String != "StripeWrites" { // stripesql's record of writes, not a Stripe table
			tables = append(tables, r)
		}
	}
	procs := map[string]bool{}
	for _, r := range e.query(t, "SHOW PROCEDURE STATUS WHERE Db = 'stripe'") {
		// The engine lists names in lower case, as it stores them.
		procs[strings.ToLower(r[1].String)] = true
	}
	t.Logf("SHOW TABLES: %d tables; SHOW PROCEDURE STATUS: %d procedures", len(tables), len(procs))
	if len(tables) < 110 {
		t.Errorf("SHOW TABLES lists %d tables, want at least 110", len(tables))
	}
	if len(procs) < 80 {
		t.Errorf("SHOW PROCEDURE STATUS lists %d procedures, want at least 80", len(procs))
	}
	for _, name := range []string{
		"ConfirmPaymentIntent", "CapturePaymentIntent", "CancelPaymentIntent", "AttachPaymentMethodToCustomer",
		"DetachPaymentMethodFromCustomer", "FinalizeInvoice", "FinalizeQuote", "AcceptQuote", "CancelQuote",
		"VoidInvoice", "ExpireCheckoutSession", "RejectAccount",
	} {
		if !procs[strings.ToLower(name)] {
			t.Errorf("SHOW PROCEDURE STATUS lacks %s", name)
		}
	}
	for _, name := range []string{"Coupons", "CheckoutSessions", "BillingMeters", "InvoiceLineItems", "CustomerBalanceTransactions", "SubscriptionItems", "Balance", "Account"} {
		found := false
		for _, r := range tables {
			found = found || r[0].String == name
		}
		if !found {
			t.Errorf("SHOW TABLES lacks %s", name)
		}
	}

	docs, err := os.ReadFile("../docs/tables.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(docs)
	omitted := catalog.Omitted()
	for _, want := range []string{
		fmt.Sprintf("| tables | %d |", len(tables)),
		fmt.Sprintf("| stored procedures | %d |", len(procs)),
		fmt.Sprintf("| spec endpoints left out on purpose | %d |", len(omitted)),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("docs/tables.md lacks %q", want)
		}
	}
	for _, o := range omitted {
		if line := fmt.Sprintf("| `%s %s` | %s |", o.Method, o.Path, strings.ReplaceAll(o.Reason, "|", `\|`)); !strings.Contains(text, line) {
			t.Errorf("docs/tables.md does not list %s %s with its reason", o.Method, o.Path)
		}
	}
}
