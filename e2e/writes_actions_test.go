package e2e

import (
	"strings"
	"testing"
)

// describe returns the column names of a table, in order.
func (c *conn) describe(table string) []string {
	c.t.Helper()
	rows, _ := c.query("DESCRIBE " + table)
	var out []string
	for _, r := range rows {
		out = append(out, r["Field"])
	}
	return out
}

// Every action of the connector contract runs as the CALL its users write,
// with real demo ids: the test checks the result set (its columns and
// values), the one request it sent, and the state read back through SQL.
func TestContractActionsVerbatim(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	piColumns := append([]string{"Success"}, c.describe("PaymentIntents")...)
	invoiceColumns := append([]string{"Success"}, c.describe("Invoices")...)
	// The contract's "one row: Success" actions return the object too
	// (issue 14), after Success.
	pmColumns := append([]string{"Success"}, c.describe("PaymentMethods")...)
	quoteColumns := append([]string{"Success"}, c.describe("Quotes")...)

	ids := func(q string) []string {
		rows, _ := c.query(q)
		var out []string
		for _, r := range rows {
			out = append(out, r["Id"])
		}
		return out
	}
	toConfirm := ids("SELECT Id FROM PaymentIntents WHERE Status = 'requires_confirmation' AND PaymentMethod IS NOT NULL")
	toCapture := ids("SELECT Id FROM PaymentIntents WHERE Status = 'requires_capture'")
	if len(toConfirm) < 2 || len(toCapture) < 3 {
		t.Fatalf("demo lacks intents to confirm (%v) or capture (%v)", toConfirm, toCapture)
	}

	type check struct {
		example  string
		ids      []string
		columns  []string          // nil: just Success
		row      map[string]string // values of the result row
		request  string
		readBack string // a query whose one row must equal after
		after    map[string]string
	}
	run := func(ch check) map[string]string {
		t.Helper()
		sql := verbatim(ch.example, ch.ids...)
		cols, row, reqs := c.call(sql)
		want := ch.columns
		if want == nil {
			want = []string{"Success"}
		}
		if strings.Join(cols, ",") != strings.Join(want, ",") {
			t.Errorf("%s: columns %v, want %v", sql, cols, want)
		}
		wantRow(t, sql, row, ch.row)
		wantLines(t, sql, reqs, []string{ch.request})
		if ch.readBack != "" {
			wantRow(t, sql+" then "+ch.readBack, c.row(ch.readBack, ch.ids[1]), ch.after)
		}
		return row
	}

	// ConfirmPaymentIntent(PaymentIntentId[, ReturnUrl])
	run(check{`CALL ConfirmPaymentIntent('pi_…')`, []string{"pi_…", toConfirm[0]}, piColumns,
		map[string]string{"Success": "true", "Id": toConfirm[0], "Status": "succeeded"},
		"POST /v1/payment_intents/" + toConfirm[0] + "/confirm",
		"SELECT Status, LatestCharge IS NOT NULL AS Charged FROM PaymentIntents WHERE Id = ?", map[string]string{"Status": "succeeded", "Charged": "1"}})
	run(check{`CALL ConfirmPaymentIntent('pi_…', 'https://example.com/return')`, []string{"pi_…", toConfirm[1]}, piColumns,
		map[string]string{"Success": "true", "Status": "succeeded"},
		"POST /v1/payment_intents/" + toConfirm[1] + "/confirm return_url=https%3A%2F%2Fexample.com%2Freturn",
		"SELECT Status FROM PaymentIntents WHERE Id = ?", map[string]string{"Status": "succeeded"}})

	// CapturePaymentIntent(PaymentIntentId[, AmountToCapture])
	run(check{`CALL CapturePaymentIntent('pi_…')`, []string{"pi_…", toCapture[0]}, piColumns,
		map[string]string{"Success": "true", "Status": "succeeded", "AmountCapturable": "0"},
		"POST /v1/payment_intents/" + toCapture[0] + "/capture",
		"SELECT Status, AmountReceived = Amount AS Full FROM PaymentIntents WHERE Id = ?", map[string]string{"Status": "succeeded", "Full": "1"}})
	run(check{`CALL CapturePaymentIntent('pi_…', 100)`, []string{"pi_…", toCapture[1]}, piColumns,
		map[string]string{"Success": "true", "Status": "succeeded", "AmountReceived": "100"},
		"POST /v1/payment_intents/" + toCapture[1] + "/capture amount_to_capture=100",
		"SELECT Status, AmountReceived FROM PaymentIntents WHERE Id = ?", map[string]string{"Status": "succeeded", "AmountReceived": "100"}})

	// CancelPaymentIntent(PaymentIntentId)
	run(check{`CALL CancelPaymentIntent('pi_…')`, []string{"pi_…", toCapture[2]}, piColumns,
		map[string]string{"Success": "true", "Status": "canceled"},
		"POST /v1/payment_intents/" + toCapture[2] + "/cancel",
		"SELECT Status, CanceledAt IS NOT NULL AS Stamped FROM PaymentIntents WHERE Id = ?", map[string]string{"Status": "canceled", "Stamped": "1"}})

	// AttachPaymentMethodToCustomer(PaymentMethodId, CustomerId) and
	// DetachPaymentMethodFromCustomer(PaymentMethodId), on a fresh payment
	// method (Stripe materializes pm_card_visa into one).
	c.exec(`INSERT INTO PaymentIntents (PaymentMethod, Currency, Amount) VALUES ('pm_card_visa', 'usd', 2000)`)
	pm := c.value("SELECT PaymentMethod FROM PaymentIntents WHERE Id = ?", c.lastID())
	customer := c.value("SELECT Id FROM Customers WHERE Email IS NOT NULL LIMIT 1")
	_, _, reqs := c.call(verbatim(`CALL AttachPaymentMethodToCustomer('pm_…', 'cus_…')`, "pm_…", pm, "cus_…", customer))
	wantLines(t, "attach", reqs, []string{"POST /v1/payment_methods/" + pm + "/attach customer=" + customer})
	wantRow(t, "attached", c.row("SELECT CustomerId FROM PaymentMethods WHERE Id = ?", pm), map[string]string{"CustomerId": customer})
	run(check{`CALL DetachPaymentMethodFromCustomer('pm_…')`, []string{"pm_…", pm}, pmColumns,
		map[string]string{"Success": "true", "Id": pm, "CustomerId": "NULL"},
		"POST /v1/payment_methods/" + pm + "/detach",
		"SELECT CustomerId FROM PaymentMethods WHERE Id = ?", map[string]string{"CustomerId": "NULL"}})

	// FinalizeInvoice(InvoiceId), the contract's own example.
	draft := c.value("SELECT Id FROM Invoices WHERE Status = 'draft' LIMIT 1")
	row := run(check{`CALL FinalizeInvoice('in_1OhnXRANHgX3SHp73ufStlXy')`, []string{"in_1OhnXRANHgX3SHp73ufStlXy", draft}, invoiceColumns,
		map[string]string{"Success": "true", "Id": draft, "Status": "open"},
		"POST /v1/invoices/" + draft + "/finalize",
		"SELECT Status, Number IS NOT NULL AS Numbered FROM Invoices WHERE Id = ?", map[string]string{"Status": "open", "Numbered": "1"}})
	if row["Number"] == "NULL" {
		t.Errorf("finalized invoice row has no Number: %v", row)
	}

	// FinalizeQuote, AcceptQuote, CancelQuote.
	quote := c.value("SELECT Id FROM Quotes WHERE Status = 'draft' LIMIT 1")
	run(check{`CALL FinalizeQuote('qt_…')`, []string{"qt_…", quote}, quoteColumns, map[string]string{"Success": "true", "Id": quote, "Status": "open"},
		"POST /v1/quotes/" + quote + "/finalize",
		"SELECT Status FROM Quotes WHERE Id = ?", map[string]string{"Status": "open"}})
	row = run(check{`CALL AcceptQuote('qt_…')`, []string{"qt_…", quote}, []string{"InvoiceId", "Success"}, map[string]string{"Success": "true"},
		"POST /v1/quotes/" + quote + "/accept",
		"SELECT Status FROM Quotes WHERE Id = ?", map[string]string{"Status": "accepted"}})
	if inv := row["InvoiceId"]; !strings.HasPrefix(inv, "in_") {
		t.Errorf("AcceptQuote: InvoiceId = %q", inv)
	} else {
		wantRow(t, "accepted quote", c.row("SELECT Invoice FROM Quotes WHERE Id = ?", quote), map[string]string{"Invoice": inv})
		wantRow(t, "the accepted quote's invoice", c.row("SELECT Id, Status FROM Invoices WHERE Id = ?", inv), map[string]string{"Id": inv, "Status": "draft"})
	}
	open := c.value("SELECT Id FROM Quotes WHERE Status = 'open' LIMIT 1")
	run(check{`CALL CancelQuote('qt_…')`, []string{"qt_…", open}, quoteColumns, map[string]string{"Success": "true", "Id": open, "Status": "canceled"},
		"POST /v1/quotes/" + open + "/cancel",
		"SELECT Status FROM Quotes WHERE Id = ?", map[string]string{"Status": "canceled"}})
}

// The actions beyond the contract: invoice transitions, subscriptions
// and refunds.
func TestMoreActions(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	invoiceColumns := append([]string{"Success"}, c.describe("Invoices")...)
	openInvoices := func() []string {
		rows, _ := c.query("SELECT Id FROM Invoices WHERE Status = 'open' AND CollectionMethod = 'send_invoice'")
		var out []string
		for _, r := range rows {
			out = append(out, r["Id"])
		}
		return out
	}
	open := openInvoices()
	if len(open) < 4 {
		// Open more: finalize drafts that bill by sending.
		rows, _ := c.query("SELECT Id FROM Invoices WHERE Status = 'draft'")
		for _, r := range rows {
			c.exec("UPDATE Invoices SET CollectionMethod = 'send_invoice', DaysUntilDue = 30 WHERE Id = '" + r["Id"] + "'")
			c.call("CALL FinalizeInvoice('" + r["Id"] + "')")
		}
		open = openInvoices()
	}
	if len(open) < 4 {
		t.Fatalf("only %d open send_invoice invoices", len(open))
	}
	for i, tc := range []struct{ proc, verb, status string }{
		{"SendInvoice", "send", "open"},
		{"PayInvoice", "pay", "paid"},
		{"VoidInvoice", "void", "void"},
		{"MarkInvoiceUncollectible", "mark_uncollectible", "uncollectible"},
	} {
		cols, row, reqs := c.call("CALL " + tc.proc + "('" + open[i] + "')")
		if strings.Join(cols, ",") != strings.Join(invoiceColumns, ",") {
			t.Errorf("%s: columns %v", tc.proc, cols)
		}
		wantRow(t, tc.proc, row, map[string]string{"Success": "true", "Id": open[i], "Status": tc.status})
		wantLines(t, tc.proc, reqs, []string{"POST /v1/invoices/" + open[i] + "/" + tc.verb})
		wantRow(t, tc.proc, c.row("SELECT Status FROM Invoices WHERE Id = ?", open[i]), map[string]string{"Status": tc.status})
	}

	active := c.value("SELECT Id FROM Subscriptions WHERE Status = 'active' LIMIT 1")
	_, row, reqs := c.call("CALL CancelSubscription('" + active + "')")
	wantRow(t, "CancelSubscription", row, map[string]string{"Success": "true", "Status": "canceled"})
	wantLines(t, "CancelSubscription", reqs, []string{"DELETE /v1/subscriptions/" + active})
	wantRow(t, "canceled", c.row("SELECT Status FROM Subscriptions WHERE Id = ?", active), map[string]string{"Status": "canceled"})

	paused := c.value("SELECT Id FROM Subscriptions WHERE Status = 'paused' LIMIT 1")
	_, row, reqs = c.call("CALL ResumeSubscription('" + paused + "')")
	wantRow(t, "ResumeSubscription", row, map[string]string{"Success": "true", "Status": "active"})
	wantLines(t, "ResumeSubscription", reqs, []string{"POST /v1/subscriptions/" + paused + "/resume"})

	charges, _ := c.query("SELECT Id, Amount FROM Charges WHERE Status = 'succeeded' AND Captured = 1 AND AmountRefunded = 0 LIMIT 2")
	_, row, reqs = c.call("CALL RefundCharge('" + charges[0]["Id"] + "', 50)")
	wantRow(t, "RefundCharge partial", row, map[string]string{"Success": "true", "AmountRefunded": "50", "Refunded": "0"})
	wantLines(t, "RefundCharge partial", reqs, []string{"POST /v1/charges/" + charges[0]["Id"] + "/refund amount=50"})
	_, row, reqs = c.call("CALL RefundCharge('" + charges[1]["Id"] + "')")
	wantRow(t, "RefundCharge full", row, map[string]string{"Success": "true", "AmountRefunded": charges[1]["Amount"], "Refunded": "1"})
	wantLines(t, "RefundCharge full", reqs, []string{"POST /v1/charges/" + charges[1]["Id"] + "/refund"})
	if rows, _ := c.query("SELECT Id FROM Refunds WHERE Charge = ?", charges[1]["Id"]); len(rows) != 1 {
		t.Errorf("refunds of %s: %v", charges[1]["Id"], rows)
	}
}

// An illegal transition and a Stripe error are MySQL errors carrying
// Stripe's type, code and message; bad arguments never reach Stripe.
func TestActionErrors(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	paid := c.value("SELECT Id FROM Invoices WHERE Status = 'paid' LIMIT 1")
	err, reqs := c.fail("CALL FinalizeInvoice('" + paid + "')")
	t.Log(err)
	want := "Error 1644 (45000): stripe: invalid_request_error (invoice_unexpected_state): You cannot finalize this invoice because it has a status of paid."
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("finalizing a paid invoice: %v\nwant %s…", err, want)
	}
	wantLines(t, "finalizing a paid invoice", reqs, []string{"POST /v1/invoices/" + paid + "/finalize"})
	wantRow(t, "paid invoice", c.row("SELECT Status FROM Invoices WHERE Id = ?", paid), map[string]string{"Status": "paid"})

	err, _ = c.fail("CALL CancelQuote('qt_doesnotexist')")
	if !strings.Contains(err.Error(), "Error 1644 (45000): stripe: invalid_request_error (resource_missing): No such quote: 'qt_doesnotexist'") {
		t.Errorf("missing quote: %v", err)
	}

	for q, msg := range map[string]string{
		"CALL FinalizeInvoice(NULL)":                        "Error 1048 (23000): FinalizeInvoice: InvoiceId is required (got NULL or '')",
		"CALL ConfirmPaymentIntent('')":                     "ConfirmPaymentIntent: PaymentIntentId is required",
		"CALL AttachPaymentMethodToCustomer('pm_x', NULL)":  "AttachPaymentMethodToCustomer: CustomerId is required",
		"CALL CapturePaymentIntent('pi_x', 'twelve')":       "Error 1366 (HY000): error: 'twelve' is not a valid value for 'bigint'",
		"CALL CapturePaymentIntent('pi_x', NULL)":           "AmountToCapture must be a positive amount",
		"CALL ConfirmPaymentIntent('pi_x', 'https://a', 3)": "expected `2` parameters but got `3`",
		"CALL DetachPaymentMethodFromCustomer('pm_x', 'x')": "expected `1` parameters but got `2`",
	} {
		err, reqs := c.fail(q)
		if !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v\nwant it to contain %s", q, err, msg)
		}
		wantLines(t, q, reqs, nil)
	}
}

// The procedures are listed where MySQL clients and BI tools look for
// them, with their parameters, and CREATE/DROP PROCEDURE are refused.
func TestProceduresAreListed(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	rows, reqs := c.query("SHOW PROCEDURE STATUS WHERE Db = 'stripe'")
	wantLines(t, "SHOW PROCEDURE STATUS", reqs, nil)
	names := map[string]bool{}
	for _, r := range rows {
		// Names as declared (the engine stores them lower-cased; the
		// server gives them back their case), with a real Created.
		names[r["Name"]] = true
		if !strings.HasPrefix(r["Created"], "20") {
			t.Errorf("%s: Created = %s", r["Name"], r["Created"])
		}
	}
	for _, n := range []string{
		"ConfirmPaymentIntent", "CapturePaymentIntent", "CancelPaymentIntent", "AttachPaymentMethodToCustomer",
		"DetachPaymentMethodFromCustomer", "FinalizeInvoice", "FinalizeQuote", "AcceptQuote", "CancelQuote",
		"VoidInvoice", "PayInvoice", "SendInvoice", "MarkInvoiceUncollectible", "CancelSubscription",
		"ResumeSubscription", "RefundCharge",
	} {
		if !names[n] {
			t.Errorf("SHOW PROCEDURE STATUS lacks %s (has %v)", n, names)
		}
	}
	wantRow(t, "ROUTINES", c.row("SELECT ROUTINE_NAME, ROUTINE_TYPE, ROUTINE_COMMENT, ROUTINE_DEFINITION, SQL_DATA_ACCESS FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'stripe' AND ROUTINE_NAME = 'ConfirmPaymentIntent'"),
		map[string]string{"ROUTINE_NAME": "ConfirmPaymentIntent", "ROUTINE_TYPE": "PROCEDURE",
			"ROUTINE_DEFINITION": "SELECT 'stripesql built-in procedure'", "SQL_DATA_ACCESS": "MODIFIES SQL DATA",
			"ROUTINE_COMMENT": "Stripe action: POST /v1/payment_intents/{id}/confirm; returns Success and the PaymentIntents columns; ReturnUrl may be left out"})
	params, _ := c.query("SELECT PARAMETER_NAME, DATA_TYPE FROM information_schema.PARAMETERS WHERE SPECIFIC_SCHEMA = 'stripe' AND SPECIFIC_NAME = 'AttachPaymentMethodToCustomer' ORDER BY ORDINAL_POSITION")
	if len(params) != 2 || params[0]["PARAMETER_NAME"] != "PaymentMethodId" || params[1]["PARAMETER_NAME"] != "CustomerId" || params[0]["DATA_TYPE"] != "varchar" {
		t.Errorf("PARAMETERS of AttachPaymentMethodToCustomer = %v", params)
	}
	if err, _ := c.fail("CREATE PROCEDURE mine() SELECT 1"); !strings.Contains(err.Error(), "stored procedures are built in") {
		t.Errorf("CREATE PROCEDURE: %v", err)
	}
	if err, _ := c.fail("DROP PROCEDURE FinalizeInvoice"); !strings.Contains(err.Error(), "stored procedures are built in") {
		t.Errorf("DROP PROCEDURE: %v", err)
	}
	// Listing them does not change what CALL runs.
	draft := c.value("SELECT Id FROM Invoices WHERE Status = 'draft' LIMIT 1")
	_, row, reqs := c.call("CALL FinalizeInvoice('" + draft + "')")
	wantRow(t, "CALL after listing", row, map[string]string{"Success": "true", "Status": "open"})
	wantLines(t, "CALL after listing", reqs, []string{"POST /v1/invoices/" + draft + "/finalize"})
}
