package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventRecorder performs requests and checks the events each one records.
type eventRecorder struct {
	t       *testing.T
	e       *Emulator
	c       *apiClient
	seen    int             // events already checked
	covered map[string]bool // route keys exercised ("POST /v1/customers/{}")
}

func newEventRecorder(t *testing.T, e *Emulator) *eventRecorder {
	return &eventRecorder{t: t, e: e, c: newClient(t, e), seen: e.EventCount(), covered: map[string]bool{}}
}

// do performs a request that must succeed, checks that it recorded exactly
// the events of the given types (in any order), and returns the response
// body and the new events.
func (r *eventRecorder) do(method, path string, form url.Values, want ...string) (map[string]any, []Event) {
	r.t.Helper()
	res := r.c.do(method, path, form)
	body := res.mustOK(r.t)
	if rt, ok := r.e.reg.match(path); ok {
		r.covered[rt.res.template(method, rt.suffix)] = true
	}
	return body, r.check(fmt.Sprintf("%s %s", method, path), res.header.Get("Request-Id"), want...)
}

// check compares the events recorded since the last check with want.
func (r *eventRecorder) check(what, requestID string, want ...string) []Event {
	r.t.Helper()
	all := r.e.Events()
	evs := all[r.seen:]
	r.seen = len(all)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Type)
		if ev.RequestID != requestID {
			r.t.Errorf("%s: %s has request %q, want %q", what, ev.Type, ev.RequestID, requestID)
		}
	}
	slices.Sort(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		r.t.Errorf("%s: events %v, want %v", what, got, want)
	}
	return evs
}

// byType returns the event of the given type among evs.
func byType(t *testing.T, evs []Event, typ string) Event {
	t.Helper()
	for _, ev := range evs {
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("no %s event among %d", typ, len(evs))
	return Event{}
}

// writeRoutes returns every route key of the registry that can change
// state: creates, updates, deletes and actions.
func writeRoutes() []string {
	var keys []string
	for _, res := range newRegistry().list {
		keys = append(keys, res.template("POST", ""))
		if !res.noUpdate {
			keys = append(keys, res.template("POST", "/{}"))
		}
		if res.del != nil {
			keys = append(keys, res.template("DELETE", "/{}"))
		}
		for verb := range res.actions {
			keys = append(keys, res.template("POST", "/{}/"+verb))
		}
	}
	slices.Sort(keys)
	return keys
}

// TestEveryWriteRouteRecordsEvents drives every write route of the
// emulator and checks the events each records, by Stripe's type names.
// Routes whose change Stripe reports with no event say so with no types.
// The test fails if a write route is added without being exercised here.
func TestEveryWriteRouteRecordsEvents(t *testing.T) {
	clk := newTestClock()
	e := New(WithClock(clk.now))
	r := newEventRecorder(t, e)
	id := func(o map[string]any) string { return o["id"].(string) }

	// Customers and their sources.
	cus, evs := r.do("POST", "/v1/customers", vals("email", "a@example.com", "name", "Ann"), "customer.created")
	if got := byType(t, evs, "customer.created").Object; got["email"] != "a@example.com" || got["id"] != id(cus) {
		t.Errorf("customer.created object %v", got)
	}
	_, evs = r.do("POST", "/v1/customers/"+id(cus), vals("email", "b@example.com"), "customer.updated")
	if ev := byType(t, evs, "customer.updated"); ev.Object["email"] != "b@example.com" || fmt.Sprint(ev.PreviousAttributes) != "map[email:a@example.com]" {
		t.Errorf("customer.updated object email %v, previous_attributes %v", ev.Object["email"], ev.PreviousAttributes)
	}
	card, evs := r.do("POST", "/v1/customers/"+id(cus)+"/sources", vals("source", "tok_visa"), "customer.source.created", "customer.updated")
	if got := byType(t, evs, "customer.source.created").Object; got["object"] != "card" || got["customer"] != id(cus) {
		t.Errorf("customer.source.created object %v", got)
	}
	if got := byType(t, evs, "customer.updated").PreviousAttributes; fmt.Sprint(got) != "map[default_source:<nil>]" {
		t.Errorf("customer.updated on a new card: previous_attributes %v", got)
	}
	r.do("POST", "/v1/customers/"+id(cus)+"/sources/"+id(card), vals("metadata[k]", "v"), "customer.source.updated")
	_, evs = r.do("DELETE", "/v1/customers/"+id(cus)+"/sources/"+id(card), nil, "customer.source.deleted", "customer.updated")
	if got := byType(t, evs, "customer.source.deleted").Object; got["deleted"] != true || got["customer"] != id(cus) || got["last4"] != "4242" {
		t.Errorf("customer.source.deleted object %v", got)
	}

	// Payment methods: Stripe has no payment_method.created.
	pm, _ := r.do("POST", "/v1/payment_methods", vals("type", "card", "card[token]", "tok_visa"))
	_, evs = r.do("POST", "/v1/payment_methods/"+id(pm)+"/attach", vals("customer", id(cus)), "payment_method.attached")
	if got := byType(t, evs, "payment_method.attached").Object["customer"]; got != id(cus) {
		t.Errorf("payment_method.attached customer %v", got)
	}
	r.do("POST", "/v1/payment_methods/"+id(pm), vals("metadata[k]", "v"), "payment_method.updated")
	r.do("POST", "/v1/payment_methods/"+id(pm)+"/detach", nil, "payment_method.detached")

	// Catalog.
	prod, _ := r.do("POST", "/v1/products", vals("name", "Widget"), "product.created")
	r.do("POST", "/v1/products/"+id(prod), vals("description", "A widget"), "product.updated")
	price, _ := r.do("POST", "/v1/prices", vals("currency", "usd", "product", id(prod), "unit_amount", "1200"), "price.created")
	r.do("POST", "/v1/prices/"+id(price), vals("nickname", "standard"), "price.updated")
	monthly, _ := r.do("POST", "/v1/prices", vals("currency", "usd", "product", id(prod), "unit_amount", "900", "recurring[interval]", "month"), "price.created")
	spare, _ := r.do("POST", "/v1/products", vals("name", "Spare"), "product.created")
	_, evs = r.do("DELETE", "/v1/products/"+id(spare), nil, "product.deleted")
	if got := byType(t, evs, "product.deleted").Object; got["deleted"] != true || got["name"] != "Spare" {
		t.Errorf("product.deleted object %v", got)
	}

	// Payment intents and charges.
	pi, _ := r.do("POST", "/v1/payment_intents", vals("amount", "5000", "currency", "usd", "customer", id(cus)), "payment_intent.created")
	r.do("POST", "/v1/payment_intents/"+id(pi), vals("payment_method", "pm_card_visa")) // Stripe has no payment_intent.updated
	_, evs = r.do("POST", "/v1/payment_intents/"+id(pi)+"/confirm", nil, "payment_intent.succeeded", "charge.succeeded")
	if got := byType(t, evs, "charge.succeeded").Object; got["payment_intent"] != id(pi) || got["status"] != "succeeded" {
		t.Errorf("charge.succeeded object %v", got)
	}
	manual, _ := r.do("POST", "/v1/payment_intents", vals("amount", "5000", "currency", "usd", "payment_method", "pm_card_visa", "capture_method", "manual", "confirm", "true"),
		"payment_intent.created", "payment_intent.amount_capturable_updated", "charge.succeeded")
	r.do("POST", "/v1/payment_intents/"+id(manual)+"/capture", vals("amount_to_capture", "3000"),
		"payment_intent.succeeded", "charge.captured", "charge.refunded", "refund.created")
	held, _ := r.do("POST", "/v1/payment_intents", vals("amount", "5000", "currency", "usd", "payment_method", "pm_card_visa", "capture_method", "manual", "confirm", "true"),
		"payment_intent.created", "payment_intent.amount_capturable_updated", "charge.succeeded")
	r.do("POST", "/v1/payment_intents/"+id(held)+"/cancel", nil, "payment_intent.canceled", "charge.refunded", "refund.created")
	ch, _ := r.do("POST", "/v1/charges", vals("amount", "2000", "currency", "usd", "source", "tok_visa"), "charge.succeeded")
	r.do("POST", "/v1/charges/"+id(ch), vals("description", "two"), "charge.updated")
	re, _ := r.do("POST", "/v1/refunds", vals("charge", id(ch), "amount", "500"), "refund.created", "charge.refunded")
	r.do("POST", "/v1/refunds/"+id(re), vals("metadata[k]", "v"), "refund.updated")
	r.do("POST", "/v1/charges/"+id(ch)+"/refund", nil, "charge.refunded", "refund.created")

	// Invoices and invoice items.
	ii, _ := r.do("POST", "/v1/invoiceitems", vals("customer", id(cus), "amount", "2500", "currency", "usd"), "invoiceitem.created")
	r.do("POST", "/v1/invoiceitems/"+id(ii), vals("description", "x")) // Stripe has no invoiceitem.updated
	inv, _ := r.do("POST", "/v1/invoices", vals("customer", id(cus), "pending_invoice_items_behavior", "include", "collection_method", "send_invoice", "days_until_due", "10"),
		"invoice.created")
	r.do("POST", "/v1/invoices/"+id(inv), vals("description", "March"), "invoice.updated")
	// Finalizing numbers the invoice from the customer's
	// next_invoice_sequence: the customer changes too.
	_, evs = r.do("POST", "/v1/invoices/"+id(inv)+"/finalize", nil, "invoice.finalized", "invoice.updated", "customer.updated")
	if got := byType(t, evs, "customer.updated").PreviousAttributes; fmt.Sprint(got) != "map[next_invoice_sequence:1]" {
		t.Errorf("customer.updated on finalize: previous_attributes %v", got)
	}
	r.do("POST", "/v1/invoices/"+id(inv)+"/send", nil, "invoice.sent")
	_, evs = r.do("POST", "/v1/invoices/"+id(inv)+"/pay", nil, "invoice.paid", "invoice.payment_succeeded", "invoice.updated")
	if got := byType(t, evs, "invoice.paid").PreviousAttributes["status"]; got != "open" {
		t.Errorf("invoice.paid previous status %v", got)
	}
	void, _ := r.do("POST", "/v1/invoices", vals("customer", id(cus)), "invoice.created")
	r.do("POST", "/v1/invoices/"+id(void)+"/finalize", nil, "invoice.finalized", "invoice.updated", "customer.updated")
	r.do("POST", "/v1/invoices/"+id(void)+"/void", nil, "invoice.voided", "invoice.updated")
	bad, _ := r.do("POST", "/v1/invoices", vals("customer", id(cus)), "invoice.created")
	r.do("POST", "/v1/invoices/"+id(bad)+"/finalize", nil, "invoice.finalized", "invoice.updated", "customer.updated")
	r.do("POST", "/v1/invoices/"+id(bad)+"/mark_uncollectible", nil, "invoice.marked_uncollectible", "invoice.updated")
	draft, _ := r.do("POST", "/v1/invoices", vals("customer", id(cus)), "invoice.created")
	_, evs = r.do("DELETE", "/v1/invoices/"+id(draft), nil, "invoice.deleted")
	if got := byType(t, evs, "invoice.deleted").Object; got["deleted"] != true || got["status"] != "draft" {
		t.Errorf("invoice.deleted object %v", got)
	}
	spareItem, _ := r.do("POST", "/v1/invoiceitems", vals("customer", id(cus), "amount", "100", "currency", "usd"), "invoiceitem.created")
	r.do("DELETE", "/v1/invoiceitems/"+id(spareItem), nil, "invoiceitem.deleted")

	// Subscriptions (the customer pays by a default payment method).
	payer, _ := r.do("POST", "/v1/customers", nil, "customer.created")
	payerPM, _ := r.do("POST", "/v1/payment_methods", vals("type", "card", "card[token]", "tok_visa", "customer", id(payer)), "payment_method.attached")
	r.do("POST", "/v1/customers/"+id(payer), vals("invoice_settings[default_payment_method]", id(payerPM)), "customer.updated")
	sub, _ := r.do("POST", "/v1/subscriptions", vals("customer", id(payer), "items[0][price]", id(monthly)),
		"customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "customer.updated")
	r.do("POST", "/v1/subscriptions/"+id(sub), vals("metadata[k]", "v"), "customer.subscription.updated")
	paused := e.Get("subscription", id(sub))
	paused["status"] = "paused"
	e.Put(paused) // a Go-side change is an event too, with no request
	r.check("Put", "", "customer.subscription.paused", "customer.subscription.updated")
	r.do("POST", "/v1/subscriptions/"+id(sub)+"/resume", nil, "customer.subscription.resumed", "customer.subscription.updated")
	_, evs = r.do("DELETE", "/v1/subscriptions/"+id(sub), nil, "customer.subscription.deleted")
	if got := byType(t, evs, "customer.subscription.deleted").Object; got["status"] != "canceled" || got["deleted"] != nil {
		t.Errorf("customer.subscription.deleted object status %v deleted %v", got["status"], got["deleted"])
	}

	// Quotes: Stripe has no quote.updated.
	q, _ := r.do("POST", "/v1/quotes", vals("customer", id(cus), "line_items[0][price]", id(price), "line_items[0][quantity]", "3"), "quote.created")
	r.do("POST", "/v1/quotes/"+id(q), vals("description", "three"))
	r.do("POST", "/v1/quotes/"+id(q)+"/finalize", nil, "quote.finalized")
	r.do("POST", "/v1/quotes/"+id(q)+"/accept", nil, "quote.accepted", "invoice.created", "invoiceitem.created")
	q2, _ := r.do("POST", "/v1/quotes", vals("customer", id(cus), "line_items[0][price]", id(price)), "quote.created")
	r.do("POST", "/v1/quotes/"+id(q2)+"/cancel", nil, "quote.canceled")

	// Connected accounts: Stripe reports only account.updated.
	acct, _ := r.do("POST", "/v1/accounts", vals("type", "custom", "country", "US"))
	r.do("POST", "/v1/accounts/"+id(acct), vals("metadata[k]", "v"), "account.updated")
	r.do("DELETE", "/v1/accounts/"+id(acct), nil)

	// Test clocks, and deleting a clock deletes its customers.
	clock, _ := r.do("POST", clockPath, vals("frozen_time", "1735689600"), "test_helpers.test_clock.created")
	_, evs = r.do("POST", clockPath+"/"+id(clock)+"/advance", vals("frozen_time", "1735776000"),
		"test_helpers.test_clock.advancing", "test_helpers.test_clock.ready")
	if a, b := byType(t, evs, "test_helpers.test_clock.advancing").Object, byType(t, evs, "test_helpers.test_clock.ready").Object; a["status"] != "advancing" || b["status"] != "ready" || b["frozen_time"] != int64(1735776000) {
		t.Errorf("advancing status %v; ready status %v frozen_time %v", a["status"], b["status"], b["frozen_time"])
	}
	r.do("POST", "/v1/customers", vals("test_clock", id(clock)), "customer.created")
	r.do("DELETE", clockPath+"/"+id(clock), nil, "test_helpers.test_clock.deleted", "customer.deleted")

	_, evs = r.do("DELETE", "/v1/customers/"+id(cus), nil, "customer.deleted")
	if got := byType(t, evs, "customer.deleted").Object; got["deleted"] != true || got["email"] != "b@example.com" {
		t.Errorf("customer.deleted object %v", got)
	}

	for _, k := range writeRoutes() {
		if !r.covered[k] {
			t.Errorf("write route %s is not exercised", k)
		}
	}
}

// TestEventShape checks an event as the API renders it.
func TestEventShape(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	res := c.do("POST", "/v1/customers", vals("email", "a@example.com"), "Idempotency-Key", "key-1")
	cus := res.mustOK(t)
	up := c.post("/v1/customers/"+cus["id"].(string), vals("name", "Ann", "metadata[tier]", "gold"))
	up.mustOK(t)
	list := c.get("/v1/events", nil).mustOK(t)
	data := list["data"].([]any)
	if len(data) != 2 {
		t.Fatalf("%d events, want 2: %s", len(data), c.get("/v1/events", nil).raw)
	}
	updated, created := data[0].(map[string]any), data[1].(map[string]any)
	wantFields(t, created, map[string]any{
		"object": "event", "type": "customer.created", "api_version": APIVersion, "livemode": false,
		"pending_webhooks": 0, "created": newTestClock().t.Unix(),
		"request.id": res.header.Get("Request-Id"), "request.idempotency_key": "key-1",
		"data.object.id": cus["id"], "data.object.email": "a@example.com", "data.object.name": nil,
	})
	if _, ok := created["data"].(map[string]any)["previous_attributes"]; ok {
		t.Error("customer.created has previous_attributes")
	}
	if !strings.HasPrefix(created["id"].(string), "evt_") || len(created["id"].(string)) != 28 {
		t.Errorf("event id %v", created["id"])
	}
	wantFields(t, updated, map[string]any{
		"type": "customer.updated", "request.id": up.header.Get("Request-Id"), "request.idempotency_key": nil,
		"data.object.name": "Ann", "data.object.metadata": map[string]any{"tier": "gold"},
		"data.previous_attributes": map[string]any{"name": nil, "metadata": map[string]any{}},
	})
	var fields []string
	for k := range created {
		fields = append(fields, k)
	}
	slices.Sort(fields)
	if want := []string{"api_version", "created", "data", "id", "livemode", "object", "pending_webhooks", "request", "type"}; !slices.Equal(fields, want) {
		t.Errorf("event fields %v, want %v", fields, want)
	}
	got := c.get("/v1/events/"+created["id"].(string), nil).mustOK(t)
	if mustJSON(t, got) != mustJSON(t, created) {
		t.Errorf("retrieve %v\nwant %v", got, created)
	}
	c.get("/v1/events/evt_nope", nil).wantError(t, http.StatusNotFound, "invalid_request_error", "resource_missing", "id")
	if e.Events()[0].IdempotencyKey != "key-1" {
		t.Errorf("Events()[0].IdempotencyKey %q", e.Events()[0].IdempotencyKey)
	}
	// An idempotent replay changes nothing and records nothing.
	c.do("POST", "/v1/customers", vals("email", "a@example.com"), "Idempotency-Key", "key-1").mustOK(t)
	if n := e.EventCount(); n != 2 {
		t.Errorf("%d events after a replay, want 2", n)
	}
}

// eventTimeline makes eight events one second apart from the test clock's
// start (the last two in the same second), and returns them oldest first.
func eventTimeline(t *testing.T, opts ...Option) (*Emulator, *testClock, *apiClient, []Event) {
	t.Helper()
	clk := newTestClock()
	e := New(append([]Option{WithClock(clk.now)}, opts...)...)
	c := newClient(t, e)
	var first string
	for i := range 6 {
		if i > 0 {
			clk.advance(1e9)
		}
		id := idOf(t, c.post("/v1/customers", vals("name", fmt.Sprint("C", i))))
		if i == 0 {
			first = id
		}
	}
	clk.advance(1e9)
	c.post("/v1/customers/"+first, vals("name", "C0 renamed")).mustOK(t)
	c.post("/v1/products", vals("name", "Widget")).mustOK(t) // same second as the update
	evs := e.Events()
	if len(evs) != 8 {
		t.Fatalf("%d events, want 8", len(evs))
	}
	return e, clk, c, evs
}

// eventIDs returns the ids of events, newest first (the list order).
func eventIDs(evs []Event) []string {
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].ID)
	}
	return out
}

func TestEventsListOrderAndFilters(t *testing.T) {
	_, clk, c, evs := eventTimeline(t)
	t0 := clk.t.Unix() - 6 // the first event's second
	all := eventIDs(evs)
	list := func(kv ...string) []string {
		t.Helper()
		return ids(c.get("/v1/events", vals(append([]string{"limit", "100"}, kv...)...)).mustOK(t))
	}
	if got := list(); !slices.Equal(got, all) {
		t.Errorf("list %v, want newest first %v", got, all)
	}
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, all) {
		t.Errorf("default limit: %v", got)
	}
	s := func(d int64) string { return fmt.Sprint(t0 + d) }
	for _, tc := range []struct {
		kv   []string
		want []string
	}{
		{[]string{"created", s(3)}, all[4:5]},
		{[]string{"created[gt]", s(5)}, all[:2]},
		{[]string{"created[gte]", s(5)}, all[:3]},
		{[]string{"created[lt]", s(2)}, all[6:]},
		{[]string{"created[lte]", s(2)}, all[5:]},
		{[]string{"created[gte]", s(2), "created[lt]", s(4)}, all[4:6]},
		{[]string{"created[gt]", s(6)}, nil},
		{[]string{"type", "customer.created"}, all[2:]},
		{[]string{"type", "customer.*"}, all[1:]},
		{[]string{"type", "*.created"}, append([]string{all[0]}, all[2:]...)},
		{[]string{"type", "customer.updated"}, all[1:2]},
		{[]string{"type", "invoice.*"}, nil},
		{[]string{"types[]", "product.created", "types[]", "customer.updated"}, all[:2]},
		{[]string{"type", "customer.created", "created[gte]", s(4)}, all[2:4]},
		{[]string{"delivery_success", "true"}, all},
		{[]string{"delivery_success", "false"}, nil},
	} {
		if got := list(tc.kv...); !slices.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.kv, got, tc.want)
		}
	}

	bad := func(param string, kv ...string) {
		t.Helper()
		c.get("/v1/events", vals(kv...)).wantError(t, http.StatusBadRequest, "invalid_request_error", "", param)
	}
	bad("types", "type", "customer.created", "types[]", "customer.updated")
	many := []string{}
	for i := range 21 {
		many = append(many, "types[]", fmt.Sprint("t", i))
	}
	bad("types", many...)
	bad("limit", "limit", "0")
	bad("limit", "limit", "101")
	bad("created", "created", "yesterday")
	bad("created[after]", "created[after]", "1")
	bad("foo", "foo", "bar")
	bad("ending_before", "starting_after", all[0], "ending_before", all[1])
	c.get("/v1/events", vals("starting_after", "evt_nope")).wantError(t, http.StatusBadRequest, "invalid_request_error", "resource_missing", "starting_after")
	c.get("/v1/events", vals("expand[]", "data.request")).wantError(t, http.StatusBadRequest, "invalid_request_error", "", "expand")
	c.post("/v1/events", nil).wantError(t, http.StatusNotFound, "invalid_request_error", "", "")
}

func TestEventsPagination(t *testing.T) {
	_, _, c, evs := eventTimeline(t)
	all := eventIDs(evs)

	// Forward, newest to oldest, with starting_after.
	var walked []string
	q := vals("limit", "3")
	for pages := 0; ; pages++ {
		page := c.get("/v1/events", q).mustOK(t)
		if page["url"] != "/v1/events" || page["object"] != "list" {
			t.Errorf("url %v object %v", page["url"], page["object"])
		}
		got := ids(page)
		walked = append(walked, got...)
		if page["has_more"] != (len(walked) < len(all)) {
			t.Errorf("page %d: has_more %v after %d of %d", pages, page["has_more"], len(walked), len(all))
		}
		if page["has_more"] != true || pages > 5 {
			break
		}
		q = vals("limit", "3", "starting_after", got[len(got)-1])
	}
	if !slices.Equal(walked, all) {
		t.Errorf("starting_after walk %v, want %v", walked, all)
	}

	// Backward, oldest to newest, with ending_before: each page is newest
	// first and ends right before the cursor.
	var back []string
	cursor := all[len(all)-1]
	back = append(back, cursor)
	for pages := 0; pages < 5; pages++ {
		page := c.get("/v1/events", vals("limit", "3", "ending_before", cursor)).mustOK(t)
		got := ids(page)
		if len(got) == 0 {
			break
		}
		slices.Reverse(got)
		back = append(back, got...)
		if page["has_more"] != (len(back) < len(all)) {
			t.Errorf("ending_before page %d: has_more %v after %d of %d", pages, page["has_more"], len(back), len(all))
		}
		cursor = got[len(got)-1]
	}
	slices.Reverse(back)
	if !slices.Equal(back, all) {
		t.Errorf("ending_before walk %v, want %v", back, all)
	}

	// A filter applies across pages; the cursor need not match it.
	page := c.get("/v1/events", vals("type", "customer.created", "limit", "2", "starting_after", all[0])).mustOK(t)
	if got := ids(page); !slices.Equal(got, all[2:4]) || page["has_more"] != true {
		t.Errorf("filtered page %v has_more %v, want %v", got, page["has_more"], all[2:4])
	}
}

func TestEventDelay(t *testing.T) {
	clk := newTestClock()
	e := New(WithClock(clk.now), WithEventDelay(10e9))
	c := newClient(t, e)
	idOf(t, c.post("/v1/customers", nil))
	ev := e.Events()[0]
	if !ev.VisibleAt.Equal(ev.At.Add(10e9)) {
		t.Errorf("VisibleAt %v, want At+10s (%v)", ev.VisibleAt, ev.At)
	}
	if got := ids(c.get("/v1/events", nil).mustOK(t)); len(got) != 0 {
		t.Errorf("listed before the delay: %v", got)
	}
	// Retrieval by id (as a webhook names it) does not wait.
	c.get("/v1/events/"+ev.ID, nil).mustOK(t)
	clk.advance(9e9)
	if got := ids(c.get("/v1/events", nil).mustOK(t)); len(got) != 0 {
		t.Errorf("listed 1s before the delay: %v", got)
	}
	clk.advance(1e9)
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, []string{ev.ID}) {
		t.Errorf("after the delay: %v, want [%s]", got, ev.ID)
	}

	// The knob changes at run time, for events recorded afterwards.
	e.SetEventVisibility(EventVisibility{})
	idOf(t, c.post("/v1/customers", nil))
	if got := ids(c.get("/v1/events", nil).mustOK(t)); len(got) != 2 {
		t.Errorf("with no delay: %v, want both events", got)
	}
}

// TestEventsOutOfOrder: an event delayed longer than a later one is
// listed after it becomes visible, in its place by created time, so a
// poller asking only for events newer than the last it saw misses it.
func TestEventsOutOfOrder(t *testing.T) {
	clk := newTestClock()
	delays := []time.Duration{5e9, 0}
	e := New(WithClock(clk.now))
	e.SetEventVisibility(EventVisibility{DelayFunc: func(ev Event) time.Duration {
		d := delays[0]
		delays = delays[1:]
		return d
	}})
	c := newClient(t, e)
	idOf(t, c.post("/v1/customers", nil))
	clk.advance(1e9)
	idOf(t, c.post("/v1/customers", nil))
	evs := e.Events()
	early, late := evs[0].ID, evs[1].ID
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, []string{late}) {
		t.Errorf("at +1s: %v, want only the later event %s", got, late)
	}
	if got := ids(c.get("/v1/events", vals("ending_before", late)).mustOK(t)); len(got) != 0 {
		t.Errorf("newer than the later event: %v", got)
	}
	clk.advance(4e9)
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, []string{late, early}) {
		t.Errorf("at +5s: %v, want [%s %s]", got, late, early)
	}
}

// TestEventReorder: with Reorder, the set of visible events is at some
// moment not a prefix of the events in creation order.
func TestEventReorder(t *testing.T) {
	clk := newTestClock()
	e := New(WithClock(clk.now), WithEventReorder(10e9))
	c := newClient(t, e)
	for range 20 {
		idOf(t, c.post("/v1/customers", nil))
		clk.advance(1e8)
	}
	evs := e.Events()
	outOfOrder := false
	for step := range 120 {
		visible := map[string]bool{}
		for _, id := range ids(c.get("/v1/events", vals("limit", "100")).mustOK(t)) {
			visible[id] = true
		}
		for i := 1; i < len(evs); i++ {
			if visible[evs[i].ID] && !visible[evs[i-1].ID] {
				outOfOrder = true
			}
		}
		if step == 119 && len(visible) != len(evs) {
			t.Errorf("%d of %d events visible after 12s", len(visible), len(evs))
		}
		clk.advance(1e8)
	}
	if !outOfOrder {
		t.Error("events became visible in creation order")
	}
	for _, ev := range evs {
		if d := ev.VisibleAt.Sub(ev.At); d < 0 || d > 10e9 {
			t.Errorf("%s delayed %v, want within [0, 10s]", ev.ID, d)
		}
	}
}

func TestEventRetention(t *testing.T) {
	clk := newTestClock()
	e := New(WithClock(clk.now), WithEventRetention(time.Hour))
	c := newClient(t, e)
	idOf(t, c.post("/v1/customers", nil))
	old := e.Events()[0].ID
	clk.advance(30 * time.Minute)
	idOf(t, c.post("/v1/customers", nil))
	young := e.Events()[1].ID
	clk.advance(30 * time.Minute)
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, []string{young}) {
		t.Errorf("after an hour: %v, want only [%s]", got, young)
	}
	c.get("/v1/events/"+old, nil).wantError(t, http.StatusNotFound, "invalid_request_error", "resource_missing", "id")
	c.get("/v1/events", vals("starting_after", old)).wantError(t, http.StatusBadRequest, "invalid_request_error", "resource_missing", "starting_after")
	if n := e.EventCount(); n != 1 {
		t.Errorf("EventCount %d, want 1: the expired event is dropped", n)
	}
	// Stripe's 30 days by default.
	e.SetEventVisibility(EventVisibility{})
	clk.advance(30*24*time.Hour - 31*time.Minute)
	if n := e.EventCount(); n != 1 {
		t.Errorf("EventCount %d just before 30 days, want 1", n)
	}
	clk.advance(time.Minute)
	if n := e.EventCount(); n != 0 {
		t.Errorf("EventCount %d after 30 days, want 0", n)
	}
}

// TestEventsOfAFailedRequest: a declined confirmation answers 402 but
// keeps the payment intent and the failed charge, so their events are
// recorded, as on Stripe.
func TestEventsOfAFailedRequest(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	res := c.post("/v1/payment_intents", vals("amount", "1000", "currency", "usd", "payment_method", "pm_card_chargeDeclined", "confirm", "true"))
	res.wantError(t, http.StatusPaymentRequired, "card_error", "card_declined", "")
	var got []string
	for _, ev := range e.Events() {
		got = append(got, ev.Type)
		if ev.RequestID != res.header.Get("Request-Id") {
			t.Errorf("%s: request %q, want %q", ev.Type, ev.RequestID, res.header.Get("Request-Id"))
		}
	}
	slices.Sort(got)
	if want := []string{"charge.failed", "payment_intent.created", "payment_intent.payment_failed"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	// A request refused before it changes anything records nothing.
	c.post("/v1/customers", vals("bogus", "1")).wantError(t, http.StatusBadRequest, "invalid_request_error", "", "bogus")
	if n := e.EventCount(); n != 3 {
		t.Errorf("EventCount %d after a rejected request, want 3", n)
	}
}

// TestPutRecordsEvents: the Go-side Put is a write path like any other.
func TestPutRecordsEvents(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	e.Put(map[string]any{"object": "product", "id": "prod_put", "name": "Put", "active": true})
	cur := e.Get("product", "prod_put")
	e.Put(cur) // unchanged: no event
	cur["name"] = "Put again"
	e.Put(cur)
	evs := e.Events()
	if len(evs) != 2 || evs[0].Type != "product.created" || evs[1].Type != "product.updated" {
		t.Fatalf("events %v", evs)
	}
	if evs[0].RequestID != "" || evs[1].Object["name"] != "Put again" || fmt.Sprint(evs[1].PreviousAttributes) != "map[name:Put]" {
		t.Errorf("request %q, object name %v, previous_attributes %v", evs[0].RequestID, evs[1].Object["name"], evs[1].PreviousAttributes)
	}
}

// TestSeedingRecordsNoEvents: bulk seeding and the demo record no events
// (their snapshots would cost what lazy seeding saves), and changing a
// seeded object records an update whose previous_attributes hold only
// what changed.
func TestSeedingRecordsNoEvents(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	seeded, err := e.Seed(Seeding{Customers: 1000, Charges: 1000})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, e)
	c.get("/v1/customers", vals("limit", "100")).mustOK(t)
	c.get("/v1/customers/"+seeded["customer"][3], nil).mustOK(t)
	if n := e.EventCount(); n != 0 {
		t.Errorf("EventCount %d after seeding and reading, want 0", n)
	}
	id := seeded["customer"][5]
	c.post("/v1/customers/"+id, vals("phone", "+15551234567")).mustOK(t)
	evs := e.Events()
	if len(evs) != 1 || evs[0].Type != "customer.updated" || evs[0].Object["id"] != id || fmt.Sprint(evs[0].PreviousAttributes) != "map[phone:<nil>]" {
		t.Errorf("events %+v", evs)
	}
	if n := NewDemo().EventCount(); n != 0 {
		t.Errorf("demo EventCount %d, want 0", n)
	}
}

// TestEventsConcurrentWriters: writers and event readers in parallel (run
// with -race); every change is recorded exactly once, with unique ids, and
// a customer's created event comes before its updated event.
func TestEventsConcurrentWriters(t *testing.T) {
	e := New()
	const writers, each = 8, 15
	send := func(method, path string, form url.Values) (int, string) {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Authorization", "Bearer sk_test_123")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var body map[string]any
		json.Unmarshal(rec.Body.Bytes(), &body)
		id, _ := body["id"].(string)
		return rec.Code, id
	}
	var wg sync.WaitGroup
	errs := make(chan string, writers*each*2+writers)
	for w := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				code, id := send("POST", "/v1/customers", url.Values{"name": {fmt.Sprint("w", w, "-", i)}})
				if code != http.StatusOK {
					errs <- fmt.Sprint("create: ", code)
					continue
				}
				if code, _ := send("POST", "/v1/customers/"+id, url.Values{"email": {fmt.Sprint("w", w, "i", i, "@example.com")}}); code != http.StatusOK {
					errs <- fmt.Sprint("update: ", code)
				}
			}
		}()
		go func() { // a reader polling the log meanwhile
			defer wg.Done()
			for range each {
				if code, _ := send("GET", "/v1/events?limit=100", nil); code != http.StatusOK {
					errs <- fmt.Sprint("list: ", code)
				}
				_ = e.EventCount()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	evs := e.Events()
	if len(evs) != writers*each*2 {
		t.Fatalf("%d events, want %d", len(evs), writers*each*2)
	}
	seen := map[string]bool{}
	createdAt := map[string]int{}
	for i, ev := range evs {
		if seen[ev.ID] {
			t.Errorf("duplicate event id %s", ev.ID)
		}
		seen[ev.ID] = true
		cus := ev.Object["id"].(string)
		switch ev.Type {
		case "customer.created":
			createdAt[cus] = i
		case "customer.updated":
			if j, ok := createdAt[cus]; !ok || j > i {
				t.Errorf("%s updated before it was created", cus)
			}
		default:
			t.Errorf("unexpected %s", ev.Type)
		}
	}
	// Paging through the list returns every event once.
	c := newClient(t, e)
	var listed []string
	q := vals("limit", "100")
	for {
		page := c.get("/v1/events", q).mustOK(t)
		got := ids(page)
		listed = append(listed, got...)
		if page["has_more"] != true {
			break
		}
		q = vals("limit", "100", "starting_after", got[len(got)-1])
	}
	if len(listed) != len(evs) {
		t.Errorf("listed %d events, want %d", len(listed), len(evs))
	}
	for _, id := range listed {
		if !seen[id] {
			t.Errorf("listed unknown event %s", id)
		}
		delete(seen, id)
	}
}

func TestMaxEvents(t *testing.T) {
	e := New(WithClock(newTestClock().now), WithMaxEvents(3))
	c := newClient(t, e)
	for range 5 {
		idOf(t, c.post("/v1/customers", nil))
	}
	evs := e.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events kept, want 3", len(evs))
	}
	if got := ids(c.get("/v1/events", nil).mustOK(t)); !slices.Equal(got, eventIDs(evs)) {
		t.Errorf("listed %v, want the 3 newest %v", got, eventIDs(evs))
	}
}

// BenchmarkEventMemory reports the heap an event takes: customer updates
// on a store of 1,000 customers, each recording one customer.updated.
func BenchmarkEventMemory(b *testing.B) {
	e := New()
	seeded, err := e.Seed(Seeding{Customers: 1000})
	if err != nil {
		b.Fatal(err)
	}
	update := func(id string, i int) {
		req := httptest.NewRequest("POST", "/v1/customers/"+id, strings.NewReader(vals("description", fmt.Sprint("update ", i)).Encode()))
		req.Header.Set("Authorization", "Bearer sk_test_123")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("update: %d %s", rec.Code, rec.Body)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := range b.N {
		update(seeded["customer"][i%1000], i)
	}
	b.StopTimer()
	e.ResetRequests() // the request log is not the events' memory
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := e.EventCount(); n != b.N {
		b.Fatalf("%d events, want %d", n, b.N)
	}
	// The updated customers became ordinary stored objects: at most 1,000
	// maps, counted in the figure for small b.N; use -benchtime=20000x.
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "heap-B/event")
	b.ReportMetric(float64(len(e.events.list[0].object)), "json-B/object")
}

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		a, b any
		want bool
	}{
		{int(0), int64(0), true},
		{int64(3), float64(3), true},
		{int64(3), float64(3.5), false},
		{map[string]any{"a": []any{int(1), "x"}}, map[string]any{"a": []any{int64(1), "x"}}, true},
		{map[string]any{"a": nil}, map[string]any{}, false},
		{[]any{}, []any(nil), true},
		{"1", int64(1), false},
		{nil, false, false},
	} {
		if got := sameValue(tc.a, tc.b); got != tc.want {
			t.Errorf("sameValue(%#v, %#v) = %v", tc.a, tc.b, got)
		}
	}
}
