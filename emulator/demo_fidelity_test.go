package emulator

import (
	"strings"
	"testing"
)

// The demo and the emulator keep to Stripe's documented behaviour where a
// newcomer's first calls would notice (issue 14).

// A few payment methods are attached to no customer, so the contract's
// AttachPaymentMethodToCustomer example has something to attach; a
// detached one cannot be attached again, as Stripe refuses.
func TestDemoFidelityPaymentMethods(t *testing.T) {
	e := NewDemo()
	var free []string
	for _, id := range e.IDs("payment_method") {
		if e.Get("payment_method", id)["customer"] == nil {
			free = append(free, id)
		}
	}
	if len(free) < 3 {
		t.Fatalf("%d unattached payment methods in the demo, want at least 3", len(free))
	}
	c := newClient(t, e)
	cust := e.IDs("customer")[0]
	pm := free[0]
	if got := c.post("/v1/payment_methods/"+pm+"/attach", vals("customer", cust)).mustOK(t)["customer"]; got != cust {
		t.Fatalf("attach: customer = %v", got)
	}
	if got := c.post("/v1/payment_methods/"+pm+"/detach", nil).mustOK(t)["customer"]; got != nil {
		t.Fatalf("detach: customer = %v", got)
	}
	body := c.post("/v1/payment_methods/"+pm+"/attach", vals("customer", cust)).wantError(t, 400, "invalid_request_error", "payment_method_unexpected_state", "")
	if msg, _ := body["message"].(string); !strings.Contains(msg, "detached from a Customer, and may not be used again") {
		t.Errorf("re-attach after detach: %v", body)
	}
}

// Every charge's amount_refunded is the sum of its Refund objects,
// including the uncaptured rest of a partial capture and a canceled
// authorization, which Stripe refunds with a Refund.
func TestDemoFidelityRefundsMatchCharges(t *testing.T) {
	e := NewDemo()
	byCharge := map[string]int64{}
	var total int64
	for _, id := range e.IDs("refund") {
		r := e.Get("refund", id)
		if r["status"] != "succeeded" {
			continue
		}
		n, _ := asInt(r["amount"])
		byCharge[r["charge"].(string)] += n
		total += n
	}
	var refunded int64
	for _, id := range e.IDs("charge") {
		n, _ := asInt(e.Get("charge", id)["amount_refunded"])
		refunded += n
		if n != byCharge[id] {
			t.Errorf("charge %s: amount_refunded %d, its refunds sum to %d", id, n, byCharge[id])
		}
	}
	t.Logf("demo: charges' amount_refunded sum to %d, refunds to %d", refunded, total)
	if refunded != total || total == 0 {
		t.Errorf("charges' amount_refunded sum to %d, refunds to %d", refunded, total)
	}
}

// Finalizing sets ending_balance (null on a draft), as Stripe does.
func TestDemoFidelityFinalizeSetsBalances(t *testing.T) {
	e := NewDemo()
	c := newClient(t, e)
	var draft string
	for _, id := range e.IDs("invoice") {
		inv := e.Get("invoice", id)
		switch inv["status"] {
		case "draft":
			if inv["ending_balance"] != nil {
				t.Errorf("draft %s has ending_balance %v", id, inv["ending_balance"])
			}
			if draft == "" && inv["subscription"] == nil {
				draft = id
			}
		case "open", "paid", "uncollectible", "void":
			if inv["ending_balance"] == nil {
				t.Errorf("%s invoice %s has no ending_balance", inv["status"], id)
			}
		}
	}
	if draft == "" {
		t.Fatal("no draft invoice in the demo")
	}
	inv := c.post("/v1/invoices/"+draft+"/finalize", nil).mustOK(t)
	start, _ := asInt(inv["starting_balance"])
	end, ok := asInt(inv["ending_balance"])
	if inv["ending_balance"] == nil || !ok || end != start {
		t.Errorf("finalized %s: starting_balance %v, ending_balance %v; want it set to the starting balance", draft, inv["starting_balance"], inv["ending_balance"])
	}
}
