package e2e

import "testing"

// What a newcomer tries first: a card payment method made from a token
// (the card as JSON with a token), then attached with the contract's
// procedure, which returns the attached payment method's columns.
func TestPaymentMethodFromTokenThenAttach(t *testing.T) {
	e := newEnv(t)
	c := e.conn(t)
	reqs := c.exec(`INSERT INTO PaymentMethods (Type, Card) VALUES ('card', '{"token": "tok_visa"}')`)
	pm := c.lastID()
	wantLines(t, "INSERT", reqs, []string{"POST /v1/payment_methods card[token]=tok_visa&type=card"})
	wantRow(t, "created", c.row("SELECT CardBrand, CardLast4, CustomerId FROM PaymentMethods WHERE Id = ?", pm),
		map[string]string{"CardBrand": "visa", "CardLast4": "4242", "CustomerId": "NULL"})
	customer := c.value("SELECT Id FROM Customers LIMIT 1")
	_, row, _ := c.call("CALL AttachPaymentMethodToCustomer('" + pm + "', '" + customer + "')")
	wantRow(t, "attach", row, map[string]string{"Success": "true", "Id": pm, "CustomerId": customer, "CardLast4": "4242"})
}
