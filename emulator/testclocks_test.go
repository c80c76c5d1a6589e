package emulator

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
)

const clockPath = "/v1/test_helpers/test_clocks"

var clockID = regexp.MustCompile(`^clock_[0-9A-Za-z]{24}$`)

// TestTestClockLifecycle: create, retrieve, list, advance and delete, with
// the objects' exact fields and Stripe's errors.
func TestTestClockLifecycle(t *testing.T) {
	clk := newTestClock() // 2025-03-01T12:00:00Z
	e := New(WithClock(clk.now))
	c := newClient(t, e)
	now := clk.t.Unix()

	first := c.post(clockPath, vals("frozen_time", "1735689600", "name", "Annual renewals")).mustOK(t)
	if !clockID.MatchString(first["id"].(string)) {
		t.Errorf("id %v does not look like clock_ + 24 alphanumerics", first["id"])
	}
	wantFields(t, first, map[string]any{
		"object": "test_helpers.test_clock", "created": now, "deletes_after": now + 7*day,
		"frozen_time": 1735689600, "livemode": false, "name": "Annual renewals", "status": "ready",
		"status_details": map[string]any{},
	})
	if len(first) != 9 {
		t.Errorf("%d fields, want the schema's 9: %v", len(first), first)
	}
	a := first["id"].(string)
	if a != "clock_SoOAAtLxPngJ3FHmffOcAGIq" {
		t.Errorf("first clock of the default seed is %s", a) // ids are reproducible
	}

	clk.advance(60e9)
	second := c.post(clockPath, vals("frozen_time", "1704067200")).mustOK(t)
	b := second["id"].(string)
	wantFields(t, second, map[string]any{"name": nil, "created": now + 60, "frozen_time": 1704067200})

	// Retrieve returns what create returned.
	got := c.get(clockPath+"/"+a, nil).mustOK(t)
	if g, w := mustJSON(t, got), mustJSON(t, first); g != w {
		t.Errorf("retrieve:\n%s\nwant\n%s", g, w)
	}

	// Newest first, with the usual pagination.
	if got := ids(c.get(clockPath, nil).mustOK(t)); !slices.Equal(got, []string{b, a}) {
		t.Errorf("list %v, want [%s %s]", got, b, a)
	}
	page := c.get(clockPath, vals("limit", "1")).mustOK(t)
	if got := ids(page); !slices.Equal(got, []string{b}) || page["has_more"] != true || page["url"] != clockPath {
		t.Errorf("limit=1: %v has_more %v url %v", got, page["has_more"], page["url"])
	}
	page = c.get(clockPath, vals("limit", "1", "starting_after", b)).mustOK(t)
	if got := ids(page); !slices.Equal(got, []string{a}) || page["has_more"] != false {
		t.Errorf("starting_after: %v has_more %v", got, page["has_more"])
	}
	page = c.get(clockPath, vals("ending_before", a)).mustOK(t)
	if got := ids(page); !slices.Equal(got, []string{b}) || page["has_more"] != false {
		t.Errorf("ending_before: %v has_more %v", got, page["has_more"])
	}

	// Advance moves frozen_time forward only.
	adv := c.post(clockPath+"/"+a+"/advance", vals("frozen_time", "1738368000")).mustOK(t)
	wantFields(t, adv, map[string]any{"id": a, "frozen_time": 1738368000, "status": "ready", "created": now})
	if got := c.get(clockPath+"/"+a, nil).mustOK(t); got["frozen_time"] != float64(1738368000) {
		t.Errorf("frozen_time after advance: %v", got["frozen_time"])
	}
	for _, to := range []string{"1738368000", "1735689600"} {
		e := c.post(clockPath+"/"+a+"/advance", vals("frozen_time", to)).wantError(t, 400, "invalid_request_error", "", "frozen_time")
		if e["message"] != "The frozen_time must be after the test clock's current frozen time (1738368000); test clocks cannot go back in time." {
			t.Errorf("advance to %s: %v", to, e["message"])
		}
	}
	c.post(clockPath+"/"+a+"/advance", nil).wantError(t, 400, "invalid_request_error", "parameter_missing", "frozen_time")
	c.post(clockPath+"/"+a+"/advance", vals("frozen_time", "soon")).wantError(t, 400, "invalid_request_error", "parameter_invalid_integer", "frozen_time")
	c.post(clockPath+"/clock_missing/advance", vals("frozen_time", "1738368001")).wantError(t, 404, "invalid_request_error", "resource_missing", "id")

	// Create errors; test clocks have no update endpoint and no filters.
	c.post(clockPath, vals("name", "no time")).wantError(t, 400, "invalid_request_error", "parameter_missing", "frozen_time")
	c.post(clockPath, vals("frozen_time", "1735689600", "metadata[a]", "b")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "metadata")
	c.get(clockPath, vals("name", "x")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "name")
	if r := c.post(clockPath+"/"+a, vals("name", "renamed")); r.status != 404 || r.body["error"].(map[string]any)["message"] !=
		"Unrecognized request URL (POST: "+clockPath+"/"+a+"). Please see https://stripe.com/docs or we can help at https://support.stripe.com/." {
		t.Errorf("update: %d %s", r.status, r.raw)
	}
	missing := c.get(clockPath+"/clock_missing", nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	if missing["message"] != "No such test clock: 'clock_missing'" {
		t.Errorf("retrieve missing: %v", missing["message"])
	}
	if e.Count("test_clocks") != 2 {
		t.Errorf("%d clocks after rejected requests, want 2", e.Count("test_clocks"))
	}

	// Delete answers the stub, and the clock is gone.
	del := c.del(clockPath + "/" + b).mustOK(t)
	if g := mustJSON(t, del); g != `{"deleted":true,"id":"`+b+`","object":"test_helpers.test_clock"}` {
		t.Errorf("delete: %s", g)
	}
	c.get(clockPath+"/"+b, nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	c.del(clockPath+"/"+b).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	c.post(clockPath+"/"+b+"/advance", vals("frozen_time", "1800000000")).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	if got := ids(c.get(clockPath, nil).mustOK(t)); !slices.Equal(got, []string{a}) {
		t.Errorf("list after delete %v, want [%s]", got, a)
	}
}

// TestCustomerOnMissingTestClock: a customer cannot be put on a clock that
// does not exist, and nothing is created.
func TestCustomerOnMissingTestClock(t *testing.T) {
	e := New()
	c := newClient(t, e)
	r := c.post("/v1/customers", vals("name", "Lost", "test_clock", "clock_missing", "source", "tok_visa"))
	r.wantError(t, 404, "invalid_request_error", "resource_missing", "test_clock")
	want := `{"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing",` +
		`"message":"No such test clock: 'clock_missing'","param":"test_clock","type":"invalid_request_error"}}`
	if g := mustJSON(t, r.body); g != want {
		t.Errorf("error %s\nwant  %s", g, want)
	}
	if n := e.Count("customer") + e.Count("card"); n != 0 {
		t.Errorf("%d objects created by a rejected request", n)
	}
	c.post("/v1/quotes", vals("test_clock", "clock_missing")).wantError(t, 404, "invalid_request_error", "resource_missing", "test_clock")
}

// TestTestClockObjects: objects follow their customer's clock, lists hide
// them unless asked, expand inlines the clock, and deleting the clock
// deletes its customers.
func TestTestClockObjects(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	f := newFixture(t, c)
	clock := idOf(t, c.post(clockPath, vals("frozen_time", "1735689600", "name", "Sim")))
	other := idOf(t, c.post(clockPath, vals("frozen_time", "1735689600")))
	cus := c.post("/v1/customers", vals("name", "On clock", "test_clock", clock, "source", "tok_visa")).mustOK(t)
	cusID := cus["id"].(string)
	if cus["test_clock"] != clock {
		t.Fatalf("customer test_clock %v, want %s", cus["test_clock"], clock)
	}
	sub := c.post("/v1/subscriptions", vals("customer", cusID, "items[0][price]", f.monthly)).mustOK(t)
	quote := c.post("/v1/quotes", vals("customer", cusID, "test_clock", clock)).mustOK(t)
	loose := c.post("/v1/quotes", vals("test_clock", other)).mustOK(t)
	for name, o := range map[string]map[string]any{"subscription": sub, "quote": quote} {
		if o["test_clock"] != clock {
			t.Errorf("%s test_clock %v, want %s", name, o["test_clock"], clock)
		}
	}
	if loose["test_clock"] != other || loose["customer"] != nil {
		t.Errorf("quote without customer: test_clock %v customer %v", loose["test_clock"], loose["customer"])
	}
	c.post("/v1/quotes", vals("customer", cusID, "test_clock", other)).wantError(t, 400, "invalid_request_error", "", "test_clock")
	c.post("/v1/quotes", vals("customer", f.cus, "test_clock", clock)).wantError(t, 400, "invalid_request_error", "", "test_clock")

	// Default lists hide the clock's objects; test_clock or customer shows them.
	if got := listAll(t, c, "/v1/customers", nil); !slices.Equal(got, []string{f.cus}) {
		t.Errorf("default customers %v, want [%s]", got, f.cus)
	}
	if got := listAll(t, c, "/v1/customers", vals("test_clock", clock)); !slices.Equal(got, []string{cusID}) {
		t.Errorf("customers on %s: %v, want [%s]", clock, got, cusID)
	}
	if got := listAll(t, c, "/v1/customers", vals("test_clock", other)); len(got) != 0 {
		t.Errorf("customers on %s: %v, want none", other, got)
	}
	if got := listAll(t, c, "/v1/subscriptions", nil); len(got) != 0 {
		t.Errorf("default subscriptions %v, want none", got)
	}
	if got := listAll(t, c, "/v1/subscriptions", vals("test_clock", clock)); !slices.Equal(got, []string{sub["id"].(string)}) {
		t.Errorf("subscriptions on clock: %v", got)
	}
	if got := listAll(t, c, "/v1/quotes", vals("test_clock", other)); !slices.Equal(got, []string{loose["id"].(string)}) {
		t.Errorf("quotes on other clock: %v", got)
	}

	// expand[]=test_clock inlines the clock.
	exp := c.get("/v1/customers/"+cusID, vals("expand[]", "test_clock")).mustOK(t)
	if tc, _ := exp["test_clock"].(map[string]any); tc["id"] != clock || tc["object"] != "test_helpers.test_clock" || tc["name"] != "Sim" {
		t.Errorf("expanded test_clock %v", exp["test_clock"])
	}

	// Deleting the clock deletes its customers (and cancels their subscriptions).
	c.del(clockPath + "/" + clock).mustOK(t)
	if got := c.get("/v1/customers/"+cusID, nil).mustOK(t); got["deleted"] != true {
		t.Errorf("customer on a deleted clock: %v", got)
	}
	if got := e.Get("subscription", sub["id"].(string)); got["status"] != "canceled" {
		t.Errorf("subscription on a deleted clock: status %v", got["status"])
	}
	if e.Get("customer", f.cus) == nil {
		t.Error("deleting a clock deleted a customer not on it")
	}
}

// TestTestClockAttachCustomer: POST /v1/test_helpers/test_clocks with
// customer puts an existing customer, and its billing objects, on the clock.
func TestTestClockAttachCustomer(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	f := newFixture(t, c)
	sub := idOf(t, c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)))
	inv := e.Get("subscription", sub)["latest_invoice"].(string)
	clock := idOf(t, c.post(clockPath, vals("frozen_time", "1735689600", "customer", f.cus)))
	if got := e.Get("customer", f.cus)["test_clock"]; got != clock {
		t.Errorf("customer test_clock %v, want %s", got, clock)
	}
	for name, id := range map[string]string{"subscription": sub, "invoice": inv} {
		if got := e.Get(name, id)["test_clock"]; got != clock {
			t.Errorf("%s test_clock %v, want %s", name, got, clock)
		}
	}
	if got := listAll(t, c, "/v1/customers", nil); len(got) != 0 {
		t.Errorf("default customers %v after attaching the only one to a clock", got)
	}
	c.post(clockPath, vals("frozen_time", "1735689600", "customer", f.cus)).wantError(t, 400, "invalid_request_error", "", "customer")
	c.post(clockPath, vals("frozen_time", "1735689600", "customer", "cus_missing")).wantError(t, 400, "invalid_request_error", "resource_missing", "customer")
	if n := e.Count("test_clocks"); n != 1 {
		t.Errorf("%d clocks, want 1: rejected creates must not store one", n)
	}
}

// TestDemoTestClocks: the demo's 2 clocks, newest first, each with exactly
// 2 customers, which default lists hide with all their objects.
func TestDemoTestClocks(t *testing.T) {
	e := NewDemo()
	c := newClient(t, e)
	list := c.get(clockPath, nil).mustOK(t)
	if got := ids(list); !slices.Equal(got, []string{demoTrialClock, demoRenewalClock}) || list["has_more"] != false {
		t.Fatalf("demo clocks %v has_more %v, want [%s %s]", got, list["has_more"], demoTrialClock, demoRenewalClock)
	}
	data := list["data"].([]any)
	wantFields(t, data[0].(map[string]any), map[string]any{"name": "Trial simulation", "status": "ready",
		"created": demoStart + 244*day, "frozen_time": demoStart + 274*day, "deletes_after": demoStart + 251*day})
	wantFields(t, data[1].(map[string]any), map[string]any{"name": "Renewal simulation", "status": "ready",
		"created": demoStart + 60*day, "frozen_time": demoStart + 91*day, "deletes_after": demoStart + 67*day})

	byClock := map[string][]string{
		demoRenewalClock: {demoClockCustomers[95], demoClockCustomers[40]},
		demoTrialClock:   {demoClockCustomers[205], demoClockCustomers[150]},
	}
	var clocked []string
	for clock, want := range byClock {
		if got := listAll(t, c, "/v1/customers", vals("test_clock", clock)); !slices.Equal(got, want) {
			t.Errorf("customers on %s: %v, want %v", clock, got, want)
		}
		clocked = append(clocked, want...)
	}
	all := listAll(t, c, "/v1/customers", nil)
	if len(all) != 246 {
		t.Errorf("default customer list has %d, want 246", len(all))
	}
	for _, id := range clocked {
		if slices.Contains(all, id) {
			t.Errorf("default customer list shows %s, which is on a test clock", id)
		}
	}
	for _, path := range []string{"/v1/invoices", "/v1/quotes", "/v1/subscriptions"} {
		q := vals()
		if path == "/v1/subscriptions" {
			q = vals("status", "all")
		}
		var shown []string
		for _, id := range clocked {
			q.Set("customer", id)
			shown = append(shown, listAll(t, c, path, q)...)
		}
		q.Del("customer")
		if len(shown) == 0 {
			t.Errorf("%s: the demo's clocked customers have none", path)
		}
		for _, id := range listAll(t, c, path, q) {
			if slices.Contains(shown, id) {
				t.Errorf("%s lists %s, which is on a test clock, by default", path, id)
			}
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
