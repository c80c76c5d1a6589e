package emulator

import (
	"net/http"
	"testing"
)

func TestIdempotentReplay(t *testing.T) {
	e := New()
	c := newClient(t, e)
	first := c.do("POST", "/v1/customers", vals("email", "a@b.c"), "Idempotency-Key", "k1")
	second := c.do("POST", "/v1/customers", vals("email", "a@b.c"), "Idempotency-Key", "k1")
	if first.raw != second.raw || second.status != http.StatusOK {
		t.Fatalf("replay differs:\n%s\n%s", first.raw, second.raw)
	}
	if first.header.Get("Idempotent-Replayed") != "" || second.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("Idempotent-Replayed: %q then %q", first.header.Get("Idempotent-Replayed"), second.header.Get("Idempotent-Replayed"))
	}
	if e.Count("customer") != 1 {
		t.Errorf("%d customers after a replay, want 1", e.Count("customer"))
	}

	mismatch := c.do("POST", "/v1/customers", vals("email", "other@b.c"), "Idempotency-Key", "k1")
	mismatch.wantError(t, http.StatusBadRequest, "idempotency_error", "", "")
	c.do("POST", "/v1/customers/"+idOf(t, first), vals("email", "a@b.c"), "Idempotency-Key", "k1").
		wantError(t, http.StatusBadRequest, "idempotency_error", "", "")

	c.do("POST", "/v1/customers", vals("email", "a@b.c"), "Idempotency-Key", "k2").mustOK(t)
	c.post("/v1/customers", vals("email", "a@b.c")).mustOK(t)
	c.post("/v1/customers", vals("email", "a@b.c")).mustOK(t)
	// Keys are scoped per account.
	c.do("POST", "/v1/customers", vals("email", "a@b.c"), "Idempotency-Key", "k1", "Stripe-Account", "acct_1").mustOK(t)
	if e.Count("customer") != 5 {
		t.Errorf("%d customers, want 5", e.Count("customer"))
	}
	// GET ignores keys.
	if r := c.do("GET", "/v1/customers", nil, "Idempotency-Key", "k1"); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" {
		t.Errorf("GET with a key: %d %q", r.status, r.header.Get("Idempotent-Replayed"))
	}
	log := e.Requests()
	if len(log) != 9 || log[1].IdempotencyKey != "k1" || log[1].Form.Get("email") != "a@b.c" || log[2].Status != 400 {
		t.Errorf("log: %+v", log)
	}
}

// TestIdempotencyDoesNotStoreValidationErrors: a request rejected before it
// executed may be retried, fixed, under the same key.
func TestIdempotencyDoesNotStoreValidationErrors(t *testing.T) {
	e := New()
	c := newClient(t, e)
	c.do("POST", "/v1/payment_intents", vals("currency", "usd"), "Idempotency-Key", "k").wantError(t, 400, "invalid_request_error", "parameter_missing", "amount")
	ok := c.do("POST", "/v1/payment_intents", vals("currency", "usd", "amount", "1000"), "Idempotency-Key", "k")
	if ok.status != 200 || ok.header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("fixed retry: %d %s", ok.status, ok.raw)
	}
	// A decline (402) is stored and replayed.
	decl := vals("currency", "usd", "amount", "1000", "payment_method", "pm_card_chargeDeclined", "confirm", "true")
	a := c.do("POST", "/v1/payment_intents", decl, "Idempotency-Key", "d")
	b := c.do("POST", "/v1/payment_intents", decl, "Idempotency-Key", "d")
	if a.status != 402 || b.status != 402 || a.raw != b.raw || b.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("decline replay: %d %d replayed=%q", a.status, b.status, b.header.Get("Idempotent-Replayed"))
	}
	if e.Count("payment_intent") != 2 || e.Count("charge") != 1 {
		t.Errorf("payment intents %d charges %d", e.Count("payment_intent"), e.Count("charge"))
	}
}
