package emulator

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// listAll walks every page of a list with limit=100 and returns the ids.
func listAll(t *testing.T, c *apiClient, path string, q url.Values) []string {
	t.Helper()
	var out []string
	cursor := ""
	for {
		p := url.Values{}
		for k, v := range q {
			p[k] = v
		}
		p.Set("limit", "100")
		if cursor != "" {
			p.Set("starting_after", cursor)
		}
		body := c.get(path, p).mustOK(t)
		got := ids(body)
		out = append(out, got...)
		if body["has_more"] != true {
			return out
		}
		cursor = got[len(got)-1]
	}
}

func TestListOrderNewestFirst(t *testing.T) {
	clk := newTestClock()
	c := newClient(t, New(WithClock(clk.now)))
	var created []string
	for i := range 5 {
		if i == 3 {
			clk.advance(time.Second) // ids 0-2 share a second, as do 3-4
		}
		created = append(created, idOf(t, c.post("/v1/customers", nil)))
	}
	slices.Reverse(created)
	body := c.get("/v1/customers", nil).mustOK(t)
	if got := ids(body); !slices.Equal(got, created) {
		t.Errorf("order %v, want %v", got, created)
	}
	if body["object"] != "list" || body["url"] != "/v1/customers" || body["has_more"] != false {
		t.Errorf("envelope %v", body)
	}
}

func TestLimitValidation(t *testing.T) {
	c := newClient(t, New())
	for range 3 {
		c.post("/v1/customers", nil).mustOK(t)
	}
	for _, bad := range []string{"0", "101", "abc", "-1", "1.5", ""} {
		c.get("/v1/customers", vals("limit", bad)).wantError(t, 400, "invalid_request_error", "", "limit")
		c.get("/v1/customers/search", vals("limit", bad, "query", `email:"x"`)).wantError(t, 400, "invalid_request_error", "", "limit")
	}
	for limit, want := range map[string]int{"1": 1, "100": 3, "2": 2} {
		body := c.get("/v1/customers", vals("limit", limit)).mustOK(t)
		if n := len(body["data"].([]any)); n != want || body["has_more"] != (want < 3) {
			t.Errorf("limit=%s: %d rows, has_more %v", limit, n, body["has_more"])
		}
	}
}

// TestPaginationWalk pages through 250 customers forwards and backwards.
func TestPaginationWalk(t *testing.T) {
	clk := newTestClock()
	c := newClient(t, New(WithClock(clk.now)))
	for i := range 250 {
		if i%3 == 0 {
			clk.advance(time.Second) // some customers share a created second
		}
		c.post("/v1/customers", vals("name", strconv.Itoa(i))).mustOK(t)
	}
	var pages [][]string
	seen := map[string]bool{}
	cursor := url.Values{"limit": {"100"}}
	for {
		body := c.get("/v1/customers", cursor).mustOK(t)
		page := ids(body)
		pages = append(pages, page)
		for _, id := range page {
			seen[id] = true
		}
		if body["has_more"] != true {
			break
		}
		cursor = url.Values{"limit": {"100"}, "starting_after": {page[len(page)-1]}}
	}
	if len(pages) != 3 || len(pages[0]) != 100 || len(pages[1]) != 100 || len(pages[2]) != 50 || len(seen) != 250 {
		t.Fatalf("pages %d (%d/%d/%d), distinct %d", len(pages), len(pages[0]), len(pages[1]), len(pages[len(pages)-1]), len(seen))
	}
	// Walking back with ending_before from the oldest page's first id
	// returns the middle page, then the first.
	back := c.get("/v1/customers", vals("limit", "100", "ending_before", pages[2][0])).mustOK(t)
	if !slices.Equal(ids(back), pages[1]) || back["has_more"] != true {
		t.Errorf("ending_before page differs (has_more %v)", back["has_more"])
	}
	back = c.get("/v1/customers", vals("limit", "100", "ending_before", pages[1][0])).mustOK(t)
	if !slices.Equal(ids(back), pages[0]) || back["has_more"] != false {
		t.Errorf("first page via ending_before differs (has_more %v)", back["has_more"])
	}
	small := c.get("/v1/customers", vals("limit", "3", "ending_before", pages[1][0])).mustOK(t)
	if !slices.Equal(ids(small), pages[0][97:]) {
		t.Errorf("ending_before with limit 3 = %v, want %v", ids(small), pages[0][97:])
	}
}

func TestCursorErrors(t *testing.T) {
	c := newClient(t, New())
	id := idOf(t, c.post("/v1/customers", nil))
	c.get("/v1/customers", vals("starting_after", id, "ending_before", id)).wantError(t, 400, "invalid_request_error", "", "ending_before")
	e := c.get("/v1/customers", vals("starting_after", "cus_nope")).wantError(t, 400, "invalid_request_error", "resource_missing", "starting_after")
	if e["message"] != "No such customer: 'cus_nope'" {
		t.Errorf("message %q", e["message"])
	}
	c.get("/v1/customers", vals("ending_before", "cus_nope")).wantError(t, 400, "invalid_request_error", "resource_missing", "ending_before")
	if got := ids(c.get("/v1/customers", vals("starting_after", id)).mustOK(t)); len(got) != 0 {
		t.Errorf("after the only customer: %v", got)
	}
}

func TestCreatedRangeBoundaries(t *testing.T) {
	clk := newTestClock()
	c := newClient(t, New(WithClock(clk.now)))
	t0 := clk.now().Unix()
	var all []string
	for range 4 {
		all = append(all, idOf(t, c.post("/v1/customers", nil)))
		clk.advance(time.Second)
	}
	ts := func(d int64) string { return strconv.FormatInt(t0+d, 10) }
	cases := []struct {
		q    url.Values
		want []string // oldest first
	}{
		{vals("created[gt]", ts(1)), all[2:]},
		{vals("created[gte]", ts(1)), all[1:]},
		{vals("created[lt]", ts(1)), all[:1]},
		{vals("created[lte]", ts(1)), all[:2]},
		{vals("created[gt]", ts(0), "created[lt]", ts(3)), all[1:3]},
		{vals("created[gte]", ts(3), "created[lte]", ts(3)), all[3:]},
		{vals("created", ts(2)), all[2:3]},
		{vals("created[gt]", ts(3)), nil},
	}
	for _, tc := range cases {
		got := ids(c.get("/v1/customers", tc.q).mustOK(t))
		slices.Reverse(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.q.Encode(), got, tc.want)
		}
	}
	c.get("/v1/customers", vals("created[foo]", "1")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "created[foo]")
	c.get("/v1/customers", vals("created", "abc")).wantError(t, 400, "invalid_request_error", "", "created")
	c.get("/v1/customers", vals("created[gt]", "x")).wantError(t, 400, "invalid_request_error", "", "created[gt]")
}

// TestListFilters checks every declared filter on the demo data against an
// independent evaluation of the same condition.
func TestListFilters(t *testing.T) {
	e := NewDemo()
	c := newClient(t, e)
	objs := func(name string) []map[string]any {
		var out []map[string]any
		for _, id := range e.IDs(name) {
			out = append(out, e.Get(name, id))
		}
		return out
	}
	pick := func(name, field string, n int) string {
		return fmt.Sprint(objs(name)[n][field])
	}
	cus := pick("payment_intent", "customer", 3)
	sub := pick("subscription", "id", 5)
	subInvoice := e.Get("subscription", sub)["latest_invoice"]
	inv := pick("invoiceitem", "invoice", 6)
	charge := pick("refund", "charge", 2)
	pi := pick("refund", "payment_intent", 2)
	prod := pick("price", "product", 10)
	plan := e.Get("subscription", sub)["items"].(map[string]any)["data"].([]any)[0].(map[string]any)["price"].(map[string]any)["id"]
	cardHolder := e.IDs("customer")[len(e.IDs("customer"))-1]
	mid := int64(1720000000)
	noClock := func(o map[string]any) bool { return o["test_clock"] == nil }
	str := func(o map[string]any, k string) string { s, _ := o[k].(string); return s }

	cases := []struct {
		path, object string
		q            url.Values
		want         func(o map[string]any) bool
	}{
		{"/v1/customers", "customer", vals("email", "Alice.Smith@Example.com"), func(o map[string]any) bool { return o["email"] == "Alice.Smith@Example.com" }},
		{"/v1/customers", "customer", vals("email", "alice.smith@example.com"), func(map[string]any) bool { return false }},
		{"/v1/customers", "customer", vals("test_clock", demoRenewalClock), func(o map[string]any) bool { return o["test_clock"] == demoRenewalClock }},
		{"/v1/customers", "customer", vals("created[lt]", fmt.Sprint(mid)), func(o map[string]any) bool { return noClock(o) && intOf(o, "created") < mid }},
		{"/v1/customers/" + cardHolder + "/sources", "card", vals("object", "card"), func(o map[string]any) bool { return o["customer"] == cardHolder }},
		{"/v1/payment_intents", "payment_intent", vals("customer", cus), func(o map[string]any) bool { return o["customer"] == cus }},
		{"/v1/payment_intents", "payment_intent", vals("created[gte]", fmt.Sprint(mid)), func(o map[string]any) bool { return intOf(o, "created") >= mid }},
		{"/v1/charges", "charge", vals("customer", cus), func(o map[string]any) bool { return o["customer"] == cus }},
		{"/v1/charges", "charge", vals("payment_intent", pi), func(o map[string]any) bool { return o["payment_intent"] == pi }},
		{"/v1/refunds", "refund", vals("charge", charge), func(o map[string]any) bool { return o["charge"] == charge }},
		{"/v1/refunds", "refund", vals("payment_intent", pi), func(o map[string]any) bool { return o["payment_intent"] == pi }},
		{"/v1/payment_methods", "payment_method", vals("customer", cus), func(o map[string]any) bool { return o["customer"] == cus }},
		{"/v1/payment_methods", "payment_method", vals("type", "card", "allow_redisplay", "unspecified"), func(o map[string]any) bool { return o["type"] == "card" }},
		{"/v1/products", "product", vals("active", "false"), func(o map[string]any) bool { return o["active"] == false }},
		{"/v1/products", "product", vals("shippable", "true", "active", "true"), func(o map[string]any) bool { return o["shippable"] == true && o["active"] == true }},
		{"/v1/products", "product", vals("url", "https://shop.example.com/consulting-hour"), func(o map[string]any) bool { return o["url"] == "https://shop.example.com/consulting-hour" }},
		{"/v1/products", "product", vals("ids[]", prod, "ids[]", "prod_missing"), func(o map[string]any) bool { return o["id"] == prod }},
		{"/v1/prices", "price", vals("product", prod), func(o map[string]any) bool { return o["product"] == prod && o["active"] == true }},
		{"/v1/prices", "price", vals("currency", "eur", "active", "true"), func(o map[string]any) bool { return o["currency"] == "eur" && o["active"] == true }},
		{"/v1/prices", "price", vals("type", "recurring", "recurring[interval]", "year"), func(o map[string]any) bool {
			return o["type"] == "recurring" && o["active"] == true && at(o, "recurring.interval") == "year"
		}},
		{"/v1/prices", "price", vals("lookup_keys[0]", "pro_monthly", "lookup_keys[1]", "basic_monthly"), func(o map[string]any) bool {
			return o["lookup_key"] == "pro_monthly" || o["lookup_key"] == "basic_monthly"
		}},
		{"/v1/invoices", "invoice", vals("customer", cus), func(o map[string]any) bool { return o["customer"] == cus }},
		{"/v1/invoices", "invoice", vals("status", "uncollectible"), func(o map[string]any) bool { return o["status"] == "uncollectible" && noClock(o) }},
		{"/v1/invoices", "invoice", vals("status", "open", "collection_method", "send_invoice"), func(o map[string]any) bool {
			return o["status"] == "open" && o["collection_method"] == "send_invoice" && noClock(o)
		}},
		{"/v1/invoices", "invoice", vals("subscription", sub), func(o map[string]any) bool { return o["id"] == subInvoice }},
		{"/v1/invoices", "invoice", vals("due_date[gt]", "0"), func(o map[string]any) bool { return o["due_date"] != nil && noClock(o) }},
		{"/v1/invoiceitems", "invoiceitem", vals("invoice", inv), func(o map[string]any) bool { return o["invoice"] == inv }},
		{"/v1/invoiceitems", "invoiceitem", vals("pending", "true"), func(o map[string]any) bool { return o["invoice"] == nil }},
		{"/v1/invoiceitems", "invoiceitem", vals("pending", "false", "created[gte]", fmt.Sprint(mid)), func(o map[string]any) bool {
			return o["invoice"] != nil && intOf(o, "date") >= mid
		}},
		{"/v1/quotes", "quote", vals("status", "accepted"), func(o map[string]any) bool { return o["status"] == "accepted" }},
		{"/v1/quotes", "quote", vals("test_clock", demoTrialClock), func(o map[string]any) bool { return o["test_clock"] == demoTrialClock }},
		{"/v1/subscriptions", "subscription", vals("price", fmt.Sprint(plan)), func(o map[string]any) bool {
			return at(o, "items.data.price.id") == plan && noClock(o) && o["status"] != "canceled" && o["status"] != "incomplete_expired"
		}},
		{"/v1/subscriptions", "subscription", vals("status", "canceled"), func(o map[string]any) bool { return o["status"] == "canceled" && noClock(o) }},
		{"/v1/subscriptions", "subscription", vals("status", "ended"), func(o map[string]any) bool {
			return (o["status"] == "canceled" || o["status"] == "incomplete_expired") && noClock(o)
		}},
		{"/v1/subscriptions", "subscription", vals("status", "all", "customer", cus), func(o map[string]any) bool { return o["customer"] == cus }},
		{"/v1/subscriptions", "subscription", vals("test_clock", demoTrialClock, "status", "all"), func(o map[string]any) bool { return o["test_clock"] == demoTrialClock }},
		{"/v1/subscriptions", "subscription", vals("current_period_end[gte]", fmt.Sprint(mid), "automatic_tax[enabled]", "false"), func(o map[string]any) bool {
			end, _ := asInt(at(o, "items.data.current_period_end"))
			return end >= mid && noClock(o) && o["status"] != "canceled" && o["status"] != "incomplete_expired"
		}},
		{"/v1/subscriptions", "subscription", vals("collection_method", "charge_automatically", "status", "trialing"), func(o map[string]any) bool {
			return o["status"] == "trialing" && noClock(o)
		}},
		{"/v1/accounts", "account", vals("created[lte]", fmt.Sprint(int64(demoStart+40*day))), func(o map[string]any) bool { return intOf(o, "created") <= demoStart+40*day }},
	}
	for _, tc := range cases {
		t.Run(tc.path+"?"+tc.q.Encode(), func(t *testing.T) {
			got := listAll(t, c, tc.path, tc.q)
			var want []string
			for _, o := range objs(tc.object) {
				if tc.want(o) {
					want = append(want, str(o, "id"))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d ids, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
			if len(want) == 0 && tc.q.Get("email") != "alice.smith@example.com" {
				t.Error("the demo data has no matching object; the case tests nothing")
			}
		})
	}
}

func TestListFilterValidation(t *testing.T) {
	c := newClient(t, New())
	cases := []struct {
		path  string
		q     url.Values
		param string
	}{
		{"/v1/invoices", vals("status", "bogus"), "status"},
		{"/v1/products", vals("active", "yes"), "active"},
		{"/v1/prices", vals("recurring[color]", "red"), "recurring[color]"},
		{"/v1/prices", vals("lookup_keys[]", "a", "lookup_keys[]", "b", "lookup_keys[]", "c", "lookup_keys[]", "d",
			"lookup_keys[]", "e", "lookup_keys[]", "f", "lookup_keys[]", "g", "lookup_keys[]", "h", "lookup_keys[]", "i",
			"lookup_keys[]", "j", "lookup_keys[]", "k"), "lookup_keys"},
		{"/v1/products", vals("ids[]", "prod_a", "starting_after", "prod_a"), "ids"},
		{"/v1/customers", vals("email[x]", "a"), "email"},
		{"/v1/charges", vals("status", "succeeded"), "status"},
	}
	for _, tc := range cases {
		c.get(tc.path, tc.q).wantError(t, 400, "invalid_request_error", "", tc.param)
	}
}

func TestDefaultVisibility(t *testing.T) {
	e := New(WithClock(newTestClock().now))
	c := newClient(t, e)
	f := newFixture(t, c)
	c.post("/v1/prices/"+f.price, vals("active", "false")).mustOK(t)
	if got := listAll(t, c, "/v1/prices", nil); !slices.Equal(got, []string{f.monthly}) {
		t.Errorf("default prices %v, want only the active one", got)
	}
	if got := listAll(t, c, "/v1/prices", vals("active", "false")); !slices.Equal(got, []string{f.price}) {
		t.Errorf("active=false prices %v", got)
	}

	live := idOf(t, c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)))
	gone := idOf(t, c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)))
	c.del("/v1/subscriptions/" + gone).mustOK(t)
	expired := e.Get("subscription", live)
	expired["id"], expired["status"] = "sub_expired", "incomplete_expired"
	e.Put(expired)
	for status, want := range map[string][]string{
		"":                   {live},
		"all":                {"sub_expired", gone, live},
		"ended":              {"sub_expired", gone},
		"canceled":           {gone},
		"incomplete_expired": {"sub_expired"},
		"active":             {live},
	} {
		q := url.Values{}
		if status != "" {
			q.Set("status", status)
		}
		got := listAll(t, c, "/v1/subscriptions", q)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("status=%q: %v, want %v", status, got, want)
		}
	}

	clock := idOf(t, c.post("/v1/test_helpers/test_clocks", vals("frozen_time", "1735689600")))
	clocked := idOf(t, c.post("/v1/customers", vals("test_clock", clock)))
	quote := idOf(t, c.post("/v1/quotes", vals("customer", clocked)))
	invoice := idOf(t, c.post("/v1/invoices", vals("customer", clocked)))
	for _, l := range []struct{ path, id string }{{"/v1/customers", clocked}, {"/v1/quotes", quote}, {"/v1/invoices", invoice}} {
		if slices.Contains(listAll(t, c, l.path, nil), l.id) {
			t.Errorf("%s lists test-clock object %s by default", l.path, l.id)
		}
		q := vals("customer", clocked)
		if l.path == "/v1/customers" {
			q = vals("test_clock", clock)
		}
		if !slices.Contains(listAll(t, c, l.path, q), l.id) {
			t.Errorf("%s?%s does not list %s", l.path, q.Encode(), l.id)
		}
	}

	e.Put(map[string]any{"object": "payment_method", "id": "pm_custom", "type": "custom"})
	if slices.Contains(listAll(t, c, "/v1/payment_methods", nil), "pm_custom") {
		t.Error("custom payment method listed without type")
	}
	if got := listAll(t, c, "/v1/payment_methods", vals("type", "custom")); !slices.Equal(got, []string{"pm_custom"}) {
		t.Errorf("type=custom: %v", got)
	}
}
