package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
)

// TestJoinsOnNullKeysAreExact runs the joins of issue #15 with pushdown on
// and off, and compares their counts with counts made from the emulator's
// own objects: a NULL key, or a key that names no row of the joined
// table, matches nothing.
func TestJoinsOnNullKeysAreExact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	exists := func(object, id string) bool { return id != "" && e.emu.Get(object, id) != nil }
	field := func(object, id, name string) string {
		s, _ := e.emu.Get(object, id)[name].(string)
		return s
	}
	items := e.emu.IDs("invoiceitem")
	withInvoice := 0
	for _, id := range items {
		if exists("invoice", field("invoiceitem", id, "invoice")) {
			withInvoice++
		}
	}
	customers := e.emu.IDs("customer")
	if withInvoice == len(items) || withInvoice == 0 {
		t.Fatalf("%d of %d invoice items have an invoice: the demo should have both kinds", withInvoice, len(items))
	}
	cases := []struct {
		query string
		want  int
	}{
		// One row per item, joined or not.
		{"SELECT COUNT(*) FROM InvoiceItems ii LEFT JOIN Invoices i ON i.Id = ii.Invoice", len(items)},
		{"SELECT COUNT(*) FROM InvoiceItems ii JOIN Invoices i ON i.Id = ii.Invoice", withInvoice},
		{"SELECT COUNT(*) FROM InvoiceItems ii LEFT JOIN Invoices i ON i.Id <=> ii.Invoice", len(items)},
		{"SELECT COUNT(*) FROM Customers c LEFT JOIN TestClocks t ON t.Id = c.TestClock", len(customers)},
		// A default source is a card: no customer has its id.
		{"SELECT COUNT(*) FROM Customers c LEFT JOIN Customers d ON d.Id = c.DefaultSource", len(customers)},
		// Invoices.Subscription cannot be expanded in Stripe's invoice list.
		{"SELECT COUNT(*) FROM Invoices i LEFT JOIN Subscriptions s ON s.Id = i.Subscription", len(e.emu.IDs("invoice"))},
	}
	for _, pushdown := range []string{"on", "off"} {
		conn := pinnedConn(t, e)
		mustExec(t, conn, "SET stripe_pushdown = '"+pushdown+"'")
		for _, c := range cases {
			var got int
			if err := conn.QueryRowContext(ctx, c.query).Scan(&got); err != nil {
				t.Errorf("pushdown %s: %s: %v", pushdown, c.query, err)
				continue
			}
			if got != c.want {
				t.Errorf("pushdown %s: %s = %d, want %d", pushdown, c.query, got, c.want)
			}
		}
	}
}

// TestExplainNamesTheLookupStrategy: EXPLAIN says, on a lookup's index,
// whether the inner table is read once or called once per key.
func TestExplainNamesTheLookupStrategy(t *testing.T) {
	e := newEnv(t)
	explain := func(q string) string {
		var lines []string
		for _, r := range e.query(t, "EXPLAIN "+q) {
			lines = append(lines, r[0].String)
		}
		return strings.Join(lines, "\n")
	}
	once := explain("SELECT COUNT(*) FROM Customers c WHERE EXISTS (SELECT 1 FROM Invoices i WHERE i.CustomerId = c.Id)")
	if !strings.Contains(once, "index: [Invoices.CustomerId,stripe: read once (GET /v1/invoices;") {
		t.Errorf("a semi-join over every customer should read Invoices once:\n%s", once)
	}
	perKey := explain("SELECT i.Id, s.Status FROM Invoices i JOIN Subscriptions s ON s.Id = i.Subscription WHERE i.Id IN ('in_a', 'in_b')")
	if !strings.Contains(perKey, "index: [Subscriptions.Id,stripe: one call per key (GET /v1/subscriptions/{key})]") {
		t.Errorf("a join driven by two invoices should look up per key:\n%s", perKey)
	}
	// One customer found by email drives the lookups: a list per key, not
	// a read of every invoice.
	byEmail := explain("SELECT c.Id FROM Customers c WHERE c.Email = 'quentin.anderson@example.org' AND EXISTS (SELECT 1 FROM Invoices i WHERE i.CustomerId = c.Id)")
	if !strings.Contains(byEmail, "stripe: one call per key") || strings.Contains(byEmail, "read once") {
		t.Errorf("a join driven by one customer's email should look up per key:\n%s", byEmail)
	}
	_, calls := e.calls(t, "SELECT COUNT(*) FROM Customers c WHERE NOT EXISTS (SELECT 1 FROM Invoices i WHERE i.CustomerId = c.Id)")
	_, customers := e.calls(t, "SELECT COUNT(*) FROM Customers")
	_, invoices := e.calls(t, "SELECT COUNT(*) FROM Invoices")
	if len(calls) > len(customers)+len(invoices) {
		t.Errorf("NOT EXISTS took %d calls; reading both tables takes %d + %d:\n%s", len(calls), len(customers), len(invoices), strings.Join(calls, "\n"))
	}
	t.Logf("NOT EXISTS over every customer: %s calls (Customers %d, Invoices %d)", strconv.Itoa(len(calls)), len(customers), len(invoices))
}
