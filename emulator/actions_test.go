package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// invoiceIn returns a new invoice of the fixture customer driven through the
// given actions.
func invoiceIn(t *testing.T, c *apiClient, f fixture, actions ...string) string {
	t.Helper()
	c.post("/v1/invoiceitems", vals("customer", f.cus, "amount", "2500", "currency", "usd")).mustOK(t)
	id := idOf(t, c.post("/v1/invoices", vals("customer", f.cus, "pending_invoice_items_behavior", "include",
		"collection_method", "send_invoice", "days_until_due", "10")))
	for _, a := range actions {
		c.post("/v1/invoices/"+id+"/"+a, nil).mustOK(t)
	}
	return id
}

func TestInvoiceTransitions(t *testing.T) {
	cases := []struct {
		from   []string // actions reaching the starting state
		action string
		status string // resulting status, or "" for an illegal transition
	}{
		{nil, "finalize", "open"},
		{[]string{"finalize"}, "pay", "paid"},
		{[]string{"finalize"}, "void", "void"},
		{[]string{"finalize"}, "mark_uncollectible", "uncollectible"},
		{[]string{"finalize"}, "send", "open"},
		{[]string{"finalize", "mark_uncollectible"}, "pay", "paid"},
		{[]string{"finalize", "mark_uncollectible"}, "void", "void"},
		{[]string{"finalize"}, "finalize", ""},
		{[]string{"finalize", "pay"}, "finalize", ""},
		{[]string{"finalize", "pay"}, "pay", ""},
		{[]string{"finalize", "pay"}, "void", ""},
		{[]string{"finalize", "void"}, "pay", ""},
		{[]string{"finalize", "void"}, "mark_uncollectible", ""},
		{nil, "pay", ""},
		{nil, "void", ""},
		{nil, "mark_uncollectible", ""},
		{nil, "send", ""},
	}
	for _, tc := range cases {
		name := strings.Join(append(tc.from, tc.action), "→")
		t.Run(name, func(t *testing.T) {
			c := newClient(t, New(WithClock(newTestClock().now)))
			f := newFixture(t, c)
			id := invoiceIn(t, c, f, tc.from...)
			before := c.get("/v1/invoices/"+id, nil).mustOK(t)
			r := c.post("/v1/invoices/"+id+"/"+tc.action, nil)
			if tc.status == "" {
				e := r.wantError(t, http.StatusBadRequest, "invalid_request_error", "invoice_unexpected_state", "")
				verb := strings.ReplaceAll(tc.action, "_", " ")
				if msg := e["message"].(string); !strings.Contains(msg, verb) || !strings.Contains(msg, before["status"].(string)) {
					t.Errorf("message %q should name %q and status %v", msg, verb, before["status"])
				}
				if after := c.get("/v1/invoices/"+id, nil).mustOK(t); after["status"] != before["status"] {
					t.Errorf("status changed to %v", after["status"])
				}
				return
			}
			inv := r.mustOK(t)
			if inv["status"] != tc.status {
				t.Fatalf("status %v, want %s", inv["status"], tc.status)
			}
			switch tc.status {
			case "open":
				if !strings.HasSuffix(fmt.Sprint(inv["number"]), "-0001") || at(inv, "status_transitions.finalized_at") == nil {
					t.Errorf("number %v, finalized_at %v", inv["number"], at(inv, "status_transitions.finalized_at"))
				}
			case "paid":
				wantFields(t, inv, map[string]any{"amount_paid": 2500, "amount_remaining": 0, "attempted": true})
				if at(inv, "status_transitions.paid_at") == nil {
					t.Error("paid_at not set")
				}
			case "void":
				if at(inv, "status_transitions.voided_at") == nil {
					t.Error("voided_at not set")
				}
			}
		})
	}
}

func TestInvoiceEditing(t *testing.T) {
	c := newClient(t, New(WithClock(newTestClock().now)))
	f := newFixture(t, c)
	draft := invoiceIn(t, c, f)
	inv := c.get("/v1/invoices/"+draft, nil).mustOK(t)
	wantFields(t, inv, map[string]any{"amount_due": 2500, "total": 2500, "lines.total_count": 1, "lines.data.amount": 2500})
	// Items added to a draft update its lines and totals.
	item := idOf(t, c.post("/v1/invoiceitems", vals("customer", f.cus, "invoice", draft, "pricing[price]", f.price, "quantity", "2")))
	wantFields(t, c.get("/v1/invoices/"+draft, nil).mustOK(t), map[string]any{"amount_due": 4900, "lines.total_count": 2})
	c.post("/v1/invoiceitems/"+item, vals("quantity", "1", "description", "One widget")).mustOK(t)
	inv = c.get("/v1/invoices/"+draft, nil).mustOK(t)
	wantFields(t, inv, map[string]any{"amount_due": 3700})
	if !strings.Contains(fmt.Sprint(inv["lines"]), "One widget") {
		t.Error("line description not updated")
	}
	c.del("/v1/invoiceitems/" + item).mustOK(t)
	wantFields(t, c.get("/v1/invoices/"+draft, nil).mustOK(t), map[string]any{"amount_due": 2500, "lines.total_count": 1})

	// Finalized invoices freeze money fields and items.
	c.post("/v1/invoices/"+draft+"/finalize", nil).mustOK(t)
	c.post("/v1/invoices/"+draft, vals("collection_method", "charge_automatically")).wantError(t, 400, "invalid_request_error", "invoice_not_editable", "")
	c.post("/v1/invoices/"+draft, vals("metadata[k]", "v", "description", "fine")).mustOK(t)
	c.post("/v1/invoiceitems", vals("customer", f.cus, "invoice", draft, "amount", "100", "currency", "usd")).wantError(t, 400, "invalid_request_error", "invoice_not_editable", "")
	c.del("/v1/invoices/"+draft).wantError(t, 400, "invalid_request_error", "invoice_not_editable", "")

	// A second invoice gets the next number of the customer's sequence.
	second := invoiceIn(t, c, f, "finalize")
	if n := c.get("/v1/invoices/"+second, nil).mustOK(t)["number"].(string); !strings.HasSuffix(n, "-0002") {
		t.Errorf("second number %s", n)
	}
}

func TestPaymentIntentTransitions(t *testing.T) {
	c := newClient(t, New(WithClock(newTestClock().now)))
	f := newFixture(t, c)
	create := func(kv ...string) map[string]any {
		return c.post("/v1/payment_intents", vals(append([]string{"amount", "5000", "currency", "usd", "customer", f.cus}, kv...)...)).mustOK(t)
	}

	pi := create()
	if pi["status"] != "requires_payment_method" {
		t.Fatalf("new PI status %v", pi["status"])
	}
	id := pi["id"].(string)
	c.post("/v1/payment_intents/"+id+"/confirm", nil).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")
	if s := c.post("/v1/payment_intents/"+id, vals("payment_method", f.pm)).mustOK(t)["status"]; s != "requires_confirmation" {
		t.Errorf("after setting payment_method: %v", s)
	}
	pi = c.post("/v1/payment_intents/"+id+"/confirm", nil).mustOK(t)
	wantFields(t, pi, map[string]any{"status": "succeeded", "amount_received": 5000})
	ch := c.get("/v1/charges/"+pi["latest_charge"].(string), nil).mustOK(t)
	wantFields(t, ch, map[string]any{"payment_intent": id, "customer": f.cus, "amount_captured": 5000, "captured": true, "status": "succeeded", "payment_method": f.pm})
	e := c.post("/v1/payment_intents/"+id+"/cancel", nil).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")
	if !strings.Contains(e["message"].(string), "succeeded") {
		t.Errorf("cancel message %q", e["message"])
	}
	c.post("/v1/payment_intents/"+id+"/confirm", nil).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")
	c.post("/v1/payment_intents/"+id+"/capture", nil).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")
	c.post("/v1/payment_intents/"+id, vals("amount", "10")).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")

	manual := create("payment_method", f.pm, "capture_method", "manual", "confirm", "true")
	wantFields(t, manual, map[string]any{"status": "requires_capture", "amount_capturable": 5000})
	mid := manual["id"].(string)
	c.post("/v1/payment_intents/"+mid+"/capture", vals("amount_to_capture", "6000")).wantError(t, 400, "invalid_request_error", "", "amount_to_capture")
	captured := c.post("/v1/payment_intents/"+mid+"/capture", vals("amount_to_capture", "3000")).mustOK(t)
	wantFields(t, captured, map[string]any{"status": "succeeded", "amount_received": 3000, "amount_capturable": 0})
	wantFields(t, c.get("/v1/charges/"+captured["latest_charge"].(string), nil).mustOK(t), map[string]any{"amount_captured": 3000, "amount_refunded": 2000, "captured": true})

	held := create("payment_method", "pm_card_mastercard", "capture_method", "manual", "confirm", "true")
	canceled := c.post("/v1/payment_intents/"+held["id"].(string)+"/cancel", vals("cancellation_reason", "abandoned")).mustOK(t)
	wantFields(t, canceled, map[string]any{"status": "canceled", "cancellation_reason": "abandoned"})
	if canceled["canceled_at"] == nil {
		t.Error("canceled_at not set")
	}
	wantFields(t, c.get("/v1/charges/"+held["latest_charge"].(string), nil).mustOK(t), map[string]any{"refunded": true})
	c.post("/v1/payment_intents/"+held["id"].(string)+"/cancel", nil).wantError(t, 400, "invalid_request_error", "payment_intent_unexpected_state", "")
	c.post("/v1/payment_intents", vals("amount", "10", "currency", "usd")).wantError(t, 400, "invalid_request_error", "amount_too_small", "amount")
	c.post("/v1/payment_intents", vals("amount", "1000", "currency", "usd", "payment_method", "pm_nope")).wantError(t, 400, "invalid_request_error", "resource_missing", "payment_method")
}

func TestCardDecline(t *testing.T) {
	e := New()
	c := newClient(t, e)
	r := c.post("/v1/payment_intents", vals("amount", "1000", "currency", "usd", "payment_method", "pm_card_chargeDeclined", "confirm", "true"))
	err := r.wantError(t, http.StatusPaymentRequired, "card_error", "card_declined", "")
	if err["decline_code"] != "generic_decline" {
		t.Errorf("decline_code %v", err["decline_code"])
	}
	pi := err["payment_intent"].(map[string]any)
	stored := c.get("/v1/payment_intents/"+pi["id"].(string), nil).mustOK(t)
	wantFields(t, stored, map[string]any{"status": "requires_payment_method", "last_payment_error.code": "card_declined", "payment_method": nil})
	wantFields(t, c.get("/v1/charges/"+err["charge"].(string), nil).mustOK(t), map[string]any{"status": "failed", "paid": false, "failure_code": "card_declined"})
}

func TestRefunds(t *testing.T) {
	c := newClient(t, New(WithClock(newTestClock().now)))
	pi := c.post("/v1/payment_intents", vals("amount", "5000", "currency", "usd", "payment_method", "pm_card_visa", "confirm", "true")).mustOK(t)
	ch := pi["latest_charge"].(string)
	part := c.post("/v1/refunds", vals("payment_intent", pi["id"].(string), "amount", "2000")).mustOK(t)
	wantFields(t, part, map[string]any{"amount": 2000, "charge": ch, "status": "succeeded"})
	wantFields(t, c.get("/v1/charges/"+ch, nil).mustOK(t), map[string]any{"amount_refunded": 2000, "refunded": false})
	c.post("/v1/refunds", vals("charge", ch, "amount", "3001")).wantError(t, 400, "invalid_request_error", "amount_too_large", "amount")
	charge := c.post("/v1/charges/"+ch+"/refund", nil).mustOK(t)
	wantFields(t, charge, map[string]any{"object": "charge", "amount_refunded": 5000, "refunded": true})
	c.post("/v1/refunds", vals("charge", ch)).wantError(t, 400, "invalid_request_error", "charge_already_refunded", "")
	if n := len(c.get("/v1/refunds", vals("charge", ch)).mustOK(t)["data"].([]any)); n != 2 {
		t.Errorf("%d refunds listed for the charge, want 2", n)
	}
	c.post("/v1/refunds", vals("charge", "ch_nope")).wantError(t, 400, "invalid_request_error", "resource_missing", "charge")
}

func TestQuoteTransitions(t *testing.T) {
	c := newClient(t, New(WithClock(newTestClock().now)))
	f := newFixture(t, c)
	quote := func(price string) string {
		return idOf(t, c.post("/v1/quotes", vals("customer", f.cus, "line_items[0][price]", price, "line_items[0][quantity]", "3")))
	}

	q := quote(f.price)
	c.post("/v1/quotes/"+q+"/accept", nil).wantError(t, 400, "invalid_request_error", "quote_unexpected_state", "")
	open := c.post("/v1/quotes/"+q+"/finalize", nil).mustOK(t)
	if open["status"] != "open" || open["number"] == nil {
		t.Fatalf("finalized quote: status %v number %v", open["status"], open["number"])
	}
	c.post("/v1/quotes/"+q, vals("description", "late")).wantError(t, 400, "invalid_request_error", "quote_unexpected_state", "")
	c.post("/v1/quotes/"+q+"/finalize", nil).wantError(t, 400, "invalid_request_error", "quote_unexpected_state", "")
	accepted := c.post("/v1/quotes/"+q+"/accept", nil).mustOK(t)
	if accepted["status"] != "accepted" || accepted["invoice"] == nil {
		t.Fatalf("accepted quote: %v invoice %v", accepted["status"], accepted["invoice"])
	}
	inv := c.get("/v1/invoices/"+accepted["invoice"].(string), nil).mustOK(t)
	wantFields(t, inv, map[string]any{"customer": f.cus, "status": "draft", "amount_due": 3600, "parent.quote_details.quote": q})
	c.post("/v1/quotes/"+q+"/cancel", nil).wantError(t, 400, "invalid_request_error", "quote_unexpected_state", "")

	rec := quote(f.monthly)
	c.post("/v1/quotes/"+rec+"/finalize", nil).mustOK(t)
	accepted = c.post("/v1/quotes/"+rec+"/accept", nil).mustOK(t)
	sub := c.get("/v1/subscriptions/"+accepted["subscription"].(string), nil).mustOK(t)
	wantFields(t, sub, map[string]any{"customer": f.cus, "items.data.quantity": 3, "latest_invoice": accepted["invoice"]})

	draft := quote(f.price)
	wantFields(t, c.post("/v1/quotes/"+draft+"/cancel", nil).mustOK(t), map[string]any{"status": "canceled"})
	opened := quote(f.price)
	c.post("/v1/quotes/"+opened+"/finalize", nil).mustOK(t)
	wantFields(t, c.post("/v1/quotes/"+opened+"/cancel", nil).mustOK(t), map[string]any{"status": "canceled"})

	bare := idOf(t, c.post("/v1/quotes", nil))
	c.post("/v1/quotes/"+bare+"/finalize", nil).wantError(t, 400, "invalid_request_error", "", "customer")
}

func TestPaymentMethodAttachDetach(t *testing.T) {
	c := newClient(t, New())
	f := newFixture(t, c)
	other := idOf(t, c.post("/v1/customers", nil))
	pm := idOf(t, c.post("/v1/payment_methods", vals("type", "card", "card[token]", "tok_amex")))
	c.post("/v1/payment_methods/"+pm+"/detach", nil).wantError(t, 400, "invalid_request_error", "payment_method_unexpected_state", "")
	c.post("/v1/payment_methods/"+pm+"/attach", nil).wantError(t, 400, "invalid_request_error", "parameter_missing", "customer")
	c.post("/v1/payment_methods/"+pm+"/attach", vals("customer", "cus_nope")).wantError(t, 400, "invalid_request_error", "resource_missing", "customer")
	wantFields(t, c.post("/v1/payment_methods/"+pm+"/attach", vals("customer", f.cus)).mustOK(t), map[string]any{"customer": f.cus})
	c.post("/v1/payment_methods/"+pm+"/attach", vals("customer", other)).wantError(t, 400, "invalid_request_error", "payment_method_unexpected_state", "")
	if got := ids(c.get("/v1/payment_methods", vals("customer", f.cus)).mustOK(t)); len(got) != 2 {
		t.Errorf("customer's payment methods: %v", got)
	}
	wantFields(t, c.post("/v1/payment_methods/"+pm+"/detach", nil).mustOK(t), map[string]any{"customer": nil})
}

func TestSubscriptionLifecycle(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	f := newFixture(t, c)
	sub := c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)).mustOK(t)
	id := sub["id"].(string)
	inv := c.get("/v1/invoices/"+sub["latest_invoice"].(string), nil).mustOK(t)
	wantFields(t, inv, map[string]any{"status": "paid", "amount_paid": 900, "billing_reason": "subscription_create", "parent.subscription_details.subscription": id})
	c.post("/v1/subscriptions/"+id+"/resume", nil).wantError(t, 400, "invalid_request_error", "", "")

	paused := e.Get("subscription", id)
	paused["status"] = "paused"
	e.Put(paused)
	wantFields(t, c.post("/v1/subscriptions/"+id+"/resume", nil).mustOK(t), map[string]any{"status": "active"})

	canceled := c.del("/v1/subscriptions/" + id).mustOK(t)
	wantFields(t, canceled, map[string]any{"status": "canceled", "cancellation_details.reason": "cancellation_requested"})
	if canceled["canceled_at"] == nil || canceled["ended_at"] == nil {
		t.Error("canceled_at/ended_at not set")
	}
	c.del("/v1/subscriptions/"+id).wantError(t, 400, "invalid_request_error", "", "")
	c.post("/v1/subscriptions/"+id, vals("description", "x")).wantError(t, 400, "invalid_request_error", "", "")
	c.post("/v1/subscriptions/"+id, vals("metadata[why]", "moved")).mustOK(t)

	bare := idOf(t, c.post("/v1/customers", nil))
	wantFields(t, c.post("/v1/subscriptions", vals("customer", bare, "items[0][price]", f.monthly)).mustOK(t), map[string]any{"status": "incomplete"})
	wantFields(t, c.post("/v1/subscriptions", vals("customer", bare, "items[0][price]", f.monthly, "trial_period_days", "7")).mustOK(t),
		map[string]any{"status": "trialing"})

	// Items can be updated, added and removed.
	live := c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)).mustOK(t)
	item := at(live, "items.data.id").(string)
	up := c.post("/v1/subscriptions/"+live["id"].(string), vals("items[0][id]", item, "items[0][quantity]", "4")).mustOK(t)
	wantFields(t, up, map[string]any{"items.data.quantity": 4, "items.total_count": 1})
}

func TestExpand(t *testing.T) {
	c := newClient(t, New())
	f := newFixture(t, c)
	pi := c.post("/v1/payment_intents", vals("amount", "1000", "currency", "usd", "customer", f.cus, "payment_method", f.pm, "confirm", "true",
		"expand[]", "customer")).mustOK(t)
	wantFields(t, pi, map[string]any{"customer.id": f.cus, "customer.email": "fix@example.com"})
	ch := c.get("/v1/charges/"+at(pi, "latest_charge").(string), vals("expand[]", "payment_intent.customer")).mustOK(t)
	wantFields(t, ch, map[string]any{"payment_intent.id": pi["id"], "payment_intent.customer.id": f.cus})
	list := c.get("/v1/payment_intents", vals("expand[0]", "data.customer")).mustOK(t)
	wantFields(t, list, map[string]any{"data.customer.object": "customer"})
	if raw := c.get("/v1/payment_intents/"+pi["id"].(string), nil).mustOK(t)["customer"]; raw != f.cus {
		t.Errorf("expansion leaked into the stored object: %v", raw)
	}
	c.get("/v1/payment_intents", vals("expand[]", "customer")).wantError(t, 400, "invalid_request_error", "", "expand")
	c.get("/v1/charges", vals("expand[]", "data.payment_intent.customer.default_source.customer")).wantError(t, 400, "invalid_request_error", "", "expand")
	before := c.get("/v1/customers", vals("limit", "100")).mustOK(t)
	c.post("/v1/customers", vals("email", "x@y.z", "expand[]", "bogus")).wantError(t, 400, "invalid_request_error", "", "expand")
	if after := c.get("/v1/customers", vals("limit", "100")).mustOK(t); len(ids(after)) != len(ids(before)) {
		t.Error("a create with a bad expand created a customer")
	}
	c.get("/v1/payment_intents/"+pi["id"].(string), vals("expand[]", "amount")).wantError(t, 400, "invalid_request_error", "", "expand")
}
