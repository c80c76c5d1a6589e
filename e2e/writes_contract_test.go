package e2e

import (
	"strings"
	"testing"
)

// Every Create, Update and Delete example of the connector contract, as
// its SQL text with the placeholders replaced by real ids of the demo
// account (or of objects an earlier example created), runs against the
// emulator behind stripe-mock's validation. Each example is checked three
// ways: the exact requests it sent (method, path, form body), the id it
// reports through stripe_last_insert_id(), and the Stripe state read back
// through SQL.
func TestContractOperationsVerbatim(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)

	charge := c.value("SELECT Id FROM Charges WHERE Status = 'succeeded' AND Captured = 1 AND Refunded = 0 AND AmountRefunded = 0 LIMIT 1")
	product := c.value("SELECT Id FROM Products WHERE Active = 1 LIMIT 1")
	account := c.value("SELECT Id FROM Accounts WHERE Type = 'standard' LIMIT 1")
	otherCustomer := c.value("SELECT Id FROM Customers WHERE Email IS NOT NULL LIMIT 1")

	// Create a customer: {"Name": "abc"} → {"Id": "cus_…"}
	got := c.exec(`INSERT INTO Customers (Name) VALUES ('abc')`)
	wantLines(t, "create customer", got, []string{"POST /v1/customers name=abc"})
	customer := c.lastID()
	if !strings.HasPrefix(customer, "cus_") {
		t.Fatalf("stripe_last_insert_id() = %q after creating a customer", customer)
	}
	wantRow(t, "created customer", c.row("SELECT Name, Email FROM Customers WHERE Id = ?", customer),
		map[string]string{"Name": "abc", "Email": "NULL"})

	// Create a refund: {"Charge": "ch_…", "Amount": 10.0}
	got = c.exec(verbatim(`INSERT INTO Refunds (Charge, Amount) VALUES ('ch_…', 10)`, "ch_…", charge))
	wantLines(t, "create refund", got, []string{"POST /v1/refunds amount=10&charge=" + charge})
	refund := c.lastID()
	wantRow(t, "created refund", c.row("SELECT Id, Charge, Amount, Status FROM Refunds WHERE Id = ?", refund),
		map[string]string{"Id": refund, "Charge": charge, "Amount": "10", "Status": "succeeded"})
	wantRow(t, "refunded charge", c.row("SELECT AmountRefunded FROM Charges WHERE Id = ?", charge),
		map[string]string{"AmountRefunded": "10"})

	// Create a card: {"CustomerId": "cus_…", "Token": "tok_…"} → {"Id": "card_…", "CustomerId": "cus_…"}
	got = c.exec(verbatim(`INSERT INTO Cards (CustomerId, Token) VALUES ('cus_…', 'tok_visa')`, "cus_…", customer))
	wantLines(t, "create card", got, []string{"POST /v1/customers/" + customer + "/sources source=tok_visa"})
	card := c.lastID()
	if !strings.HasPrefix(card, "card_") {
		t.Errorf("stripe_last_insert_id() = %q after creating a card", card)
	}
	wantRow(t, "created card", c.row("SELECT Id, CustomerId, Brand, Last4, Token FROM Cards WHERE CustomerId = ?", customer),
		map[string]string{"Id": card, "CustomerId": customer, "Brand": "Visa", "Last4": "4242", "Token": "NULL"})

	// Create a price: {"Currency": "usd", "Product": "prod_…", "UnitAmount": 1200.0}
	got = c.exec(verbatim(`INSERT INTO Prices (Currency, Product, UnitAmount) VALUES ('usd', 'prod_…', 1200)`, "prod_…", product))
	wantLines(t, "create price", got, []string{"POST /v1/prices currency=usd&product=" + product + "&unit_amount=1200"})
	price := c.lastID()
	wantRow(t, "created price", c.row("SELECT Currency, Product, UnitAmount, Active, Type FROM Prices WHERE Id = ?", price),
		map[string]string{"Currency": "usd", "Product": product, "UnitAmount": "1200", "Active": "1", "Type": "one_time"})

	// Create an invoice: {"CustomerId": "cus_…"}
	got = c.exec(verbatim(`INSERT INTO Invoices (CustomerId) VALUES ('cus_…')`, "cus_…", customer))
	wantLines(t, "create invoice", got, []string{"POST /v1/invoices customer=" + customer})
	invoice := c.lastID()
	wantRow(t, "created invoice", c.row("SELECT CustomerId, Status FROM Invoices WHERE Id = ?", invoice),
		map[string]string{"CustomerId": customer, "Status": "draft"})

	// Create an invoice item: {"Customer": "cus_…", "Currency": "usd", "Amount": 1000.0}
	got = c.exec(verbatim(`INSERT INTO InvoiceItems (Customer, Currency, Amount) VALUES ('cus_…', 'usd', 1000)`, "cus_…", customer))
	wantLines(t, "create invoice item", got, []string{"POST /v1/invoiceitems amount=1000&currency=usd&customer=" + customer})
	item := c.lastID()
	wantRow(t, "created invoice item", c.row("SELECT Customer, Currency, Amount, Quantity FROM InvoiceItems WHERE Id = ?", item),
		map[string]string{"Customer": customer, "Currency": "usd", "Amount": "1000", "Quantity": "1"})

	// Create a quote: {"CustomerId": "cus_…"}
	got = c.exec(verbatim(`INSERT INTO Quotes (CustomerId) VALUES ('cus_…')`, "cus_…", customer))
	wantLines(t, "create quote", got, []string{"POST /v1/quotes customer=" + customer})
	quote := c.lastID()
	wantRow(t, "created quote", c.row("SELECT CustomerId, Status FROM Quotes WHERE Id = ?", quote),
		map[string]string{"CustomerId": customer, "Status": "draft"})

	// Create an account: {"Type": "standard"}
	got = c.exec(`INSERT INTO Accounts (Type) VALUES ('standard')`)
	wantLines(t, "create account", got, []string{"POST /v1/accounts type=standard"})
	newAccount := c.lastID()
	wantRow(t, "created account", c.row("SELECT Type FROM Accounts WHERE Id = ?", newAccount),
		map[string]string{"Type": "standard"})

	// Create a payment intent: {"PaymentMethod": "pm_…", "Currency": "usd", "Amount": 1500.0}
	got = c.exec(verbatim(`INSERT INTO PaymentIntents (PaymentMethod, Currency, Amount) VALUES ('pm_…', 'usd', 1500)`, "pm_…", "pm_card_visa"))
	wantLines(t, "create payment intent", got, []string{"POST /v1/payment_intents amount=1500&currency=usd&payment_method=pm_card_visa"})
	intent := c.lastID()
	pi := c.row("SELECT PaymentMethod, Currency, Amount, Status FROM PaymentIntents WHERE Id = ?", intent)
	wantRow(t, "created payment intent", pi, map[string]string{"Currency": "usd", "Amount": "1500", "Status": "requires_confirmation"})
	if !strings.HasPrefix(pi["PaymentMethod"], "pm_") {
		t.Errorf("payment intent's PaymentMethod = %q", pi["PaymentMethod"])
	}

	// The updates: each finds its row through the same pushdown as
	// SELECT (one retrieve), then sends one POST with the changed column.
	updates := []struct {
		example, table, column, want string
		ids                          []string
		requests                     []string
	}{
		{`UPDATE Customers SET Name = 'Charlie' WHERE Id = 'cus_…'`, "Customers", "Name", "Charlie",
			[]string{"cus_…", customer},
			[]string{"GET /v1/customers/" + customer, "POST /v1/customers/" + customer + " name=Charlie"}},
		{`UPDATE PaymentIntents SET Description = 'Payment Intent' WHERE Id = 'pi_…'`, "PaymentIntents", "Description", "Payment Intent",
			[]string{"pi_…", intent},
			[]string{"GET /v1/payment_intents/" + intent, "POST /v1/payment_intents/" + intent + " description=Payment+Intent"}},
		{`UPDATE Cards SET AddressCountry = 'US' WHERE CustomerId = 'cus_…' AND Id = 'card_…'`, "Cards", "AddressCountry", "US",
			[]string{"cus_…", customer, "card_…", card},
			[]string{"GET /v1/customers/" + customer + "/sources/" + card, "POST /v1/customers/" + customer + "/sources/" + card + " address_country=US"}},
		{`UPDATE Prices SET Nickname = 'Price Update' WHERE Id = 'price_…'`, "Prices", "Nickname", "Price Update",
			[]string{"price_…", price},
			[]string{"GET /v1/prices/" + price, "POST /v1/prices/" + price + " nickname=Price+Update"}},
		{`UPDATE Invoices SET Description = 'Invoice for car' WHERE Id = 'in_…'`, "Invoices", "Description", "Invoice for car",
			[]string{"in_…", invoice},
			[]string{"GET /v1/invoices/" + invoice, "POST /v1/invoices/" + invoice + " description=Invoice+for+car"}},
		{`UPDATE InvoiceItems SET Quantity = 3 WHERE Id = 'ii_…'`, "InvoiceItems", "Quantity", "3",
			[]string{"ii_…", item},
			[]string{"GET /v1/invoiceitems/" + item, "POST /v1/invoiceitems/" + item + " quantity=3"}},
		{`UPDATE Quotes SET CustomerId = 'cus_…' WHERE Id = 'qt_…'`, "Quotes", "CustomerId", otherCustomer,
			[]string{"cus_…", otherCustomer, "qt_…", quote},
			[]string{"GET /v1/quotes/" + quote, "POST /v1/quotes/" + quote + " customer=" + otherCustomer}},
		{`UPDATE Accounts SET BusinessProfileName = 'StagingName' WHERE Id = 'acct_…'`, "Accounts", "BusinessProfileName", "StagingName",
			[]string{"acct_…", account},
			[]string{"GET /v1/accounts/" + account, "POST /v1/accounts/" + account + " business_profile[name]=StagingName"}},
	}
	for _, u := range updates {
		sql := verbatim(u.example, u.ids...)
		got := c.exec(sql)
		wantLines(t, sql, got, u.requests)
		id := u.ids[len(u.ids)-1]
		readBack := "SELECT " + u.column + " FROM " + u.table + " WHERE Id = ?"
		args := []any{id}
		if u.table == "Cards" {
			// A card is found under its customer; by Id alone every
			// customer's cards would be listed.
			readBack += " AND CustomerId = ?"
			args = append(args, customer)
		}
		wantRow(t, sql, c.row(readBack, args...), map[string]string{u.column: u.want})
	}
	// Stripe prices the item anew: amount = unit amount × quantity.
	wantRow(t, "invoice item after the quantity update", c.row("SELECT Quantity, Amount FROM InvoiceItems WHERE Id = ?", item),
		map[string]string{"Quantity": "3", "Amount": "3000"})

	// The read examples, on the objects just written: List with a
	// filterClause and Get by entityId.
	c.exec(`INSERT INTO Customers (Name, Email) VALUES ('listed', 'a@b.c')`)
	listed := c.lastID()
	rows, _ := c.query(`SELECT * FROM Customers WHERE Email = 'a@b.c'`)
	if len(rows) != 1 || rows[0]["Id"] != listed || rows[0]["Name"] != "listed" {
		t.Errorf("List customers with Email = 'a@b.c': %v, want only %s", rows, listed)
	}
	get := verbatim(`SELECT * FROM Customers WHERE Id = 'cus_OxHsz0u5bCGWuy'`, "cus_OxHsz0u5bCGWuy", customer)
	rows, got = c.query(get)
	wantLines(t, "get customer", got, []string{"GET /v1/customers/" + customer})
	if len(rows) != 1 || rows[0]["Id"] != customer || rows[0]["Name"] != "Charlie" {
		t.Errorf("%s: %v", get, rows)
	}

	// The singular aliases write too.
	wantLines(t, "INSERT INTO Customer", c.exec(`INSERT INTO Customer (Name) VALUES ('alias')`), []string{"POST /v1/customers name=alias"})
	wantLines(t, "UPDATE PaymentIntent", c.exec(verbatim(`UPDATE PaymentIntent SET Description = 'alias' WHERE Id = 'pi_…'`, "pi_…", intent)),
		[]string{"GET /v1/payment_intents/" + intent, "POST /v1/payment_intents/" + intent + " description=alias"})

	// Delete a customer: entityId, or filterClause id='cus_…'.
	got = c.exec(verbatim(`DELETE FROM Customers WHERE Id = 'cus_…'`, "cus_…", customer))
	wantLines(t, "delete customer", got, []string{"GET /v1/customers/" + customer, "DELETE /v1/customers/" + customer})
	if rows, _ := c.query("SELECT Id FROM Customers WHERE Id = ?", customer); len(rows) != 0 {
		t.Errorf("deleted customer still reads as %v", rows)
	}
	c.exec(`INSERT INTO Customers (Name) VALUES ('to delete')`)
	second := c.lastID()
	got = c.exec("DELETE FROM Customers WHERE id='" + second + "'")
	wantLines(t, "delete customer by filterClause", got, []string{"GET /v1/customers/" + second, "DELETE /v1/customers/" + second})
	if rows, _ := c.query("SELECT Id FROM Customers WHERE Id = ?", second); len(rows) != 0 {
		t.Errorf("customer deleted by filterClause still reads as %v", rows)
	}
}
