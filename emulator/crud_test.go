package emulator

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
)

// fixture holds ids of objects most tests need.
type fixture struct {
	cus, prod, price, monthly, pm, card string
}

func newFixture(t *testing.T, c *apiClient) fixture {
	t.Helper()
	var f fixture
	f.cus = idOf(t, c.post("/v1/customers", vals("email", "fix@example.com", "name", "Fix", "source", "tok_visa")))
	f.prod = idOf(t, c.post("/v1/products", vals("name", "Widget")))
	f.price = idOf(t, c.post("/v1/prices", vals("currency", "usd", "product", f.prod, "unit_amount", "1200")))
	f.monthly = idOf(t, c.post("/v1/prices", vals("currency", "usd", "product", f.prod, "unit_amount", "900", "recurring[interval]", "month")))
	f.pm = idOf(t, c.post("/v1/payment_methods", vals("type", "card", "card[token]", "tok_visa", "customer", f.cus)))
	f.card = c.get("/v1/customers/"+f.cus, nil).mustOK(t)["default_source"].(string)
	return f
}

// wantFields checks dotted-path fields of a decoded object.
func wantFields(t *testing.T, o map[string]any, want map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if got := normalize(clone(at(o, k))); fmt.Sprint(got) != fmt.Sprint(want[k]) {
			t.Errorf("%s = %v, want %v", k, got, want[k])
		}
	}
}

// at follows a dotted path through maps; on an array it continues with
// the first element.
func at(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		if a, ok := v.([]any); ok {
			if len(a) == 0 {
				return nil
			}
			v = a[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[seg]
	}
	return v
}

func expand(s string, f fixture, extra map[string]string) string {
	r := strings.NewReplacer("{cus}", f.cus, "{prod}", f.prod, "{price}", f.price, "{monthly}", f.monthly, "{pm}", f.pm, "{card}", f.card)
	s = r.Replace(s)
	for k, v := range extra {
		s = strings.ReplaceAll(s, k, v)
	}
	return s
}

func expandForm(v url.Values, f fixture, extra map[string]string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		for _, x := range vs {
			out.Add(k, expand(x, f, extra))
		}
	}
	return out
}

// TestCRUD creates, retrieves, updates (merge and unset) and deletes one
// object of every resource.
func TestCRUD(t *testing.T) {
	cases := []struct {
		name        string
		path        string     // collection path
		create      url.Values // create params
		created     map[string]any
		update      url.Values
		updated     map[string]any
		unset       url.Values
		unsetWant   map[string]any
		deleteCode  int            // 0: DELETE is an unrecognized URL
		deleteWant  map[string]any // fields of the DELETE answer
		afterDelete int            // status of a retrieve after DELETE
	}{
		{
			name: "customer", path: "/v1/customers",
			create:     vals("email", "Ann@Example.com", "name", "Ann", "metadata[tier]", "gold", "address[country]", "US"),
			created:    map[string]any{"object": "customer", "email": "Ann@Example.com", "metadata.tier": "gold", "address.country": "US", "balance": 0, "tax_exempt": "none", "livemode": false},
			update:     vals("name", "Charlie", "metadata[plan]", "pro", "address[city]", "Paris", "description", "VIP"),
			updated:    map[string]any{"name": "Charlie", "metadata": map[string]any{"tier": "gold", "plan": "pro"}, "address.country": "US", "address.city": "Paris"},
			unset:      vals("description", "", "metadata[tier]", ""),
			unsetWant:  map[string]any{"description": nil, "metadata": map[string]any{"plan": "pro"}},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "customer"}, afterDelete: 200,
		},
		{
			name: "payment_intent", path: "/v1/payment_intents",
			create:    vals("amount", "1500", "currency", "USD", "payment_method", "{pm}"),
			created:   map[string]any{"object": "payment_intent", "amount": 1500, "currency": "usd", "status": "requires_confirmation", "payment_method": "{pm}", "capture_method": "automatic_async"},
			update:    vals("description", "Payment Intent", "metadata[order]", "7"),
			updated:   map[string]any{"description": "Payment Intent", "metadata.order": "7", "amount": 1500},
			unset:     vals("description", ""),
			unsetWant: map[string]any{"description": nil},
		},
		{
			name: "payment_method", path: "/v1/payment_methods",
			create:    vals("type", "card", "card[token]", "tok_mastercard"),
			created:   map[string]any{"object": "payment_method", "type": "card", "card.brand": "mastercard", "card.last4": "4444", "customer": nil},
			update:    vals("billing_details[name]", "Jo", "metadata[k]", "v"),
			updated:   map[string]any{"billing_details.name": "Jo", "billing_details.email": nil, "metadata.k": "v"},
			unset:     vals("metadata", ""),
			unsetWant: map[string]any{"metadata": map[string]any{}},
		},
		{
			name: "charge", path: "/v1/charges",
			create:    vals("amount", "2000", "currency", "usd", "source", "tok_visa"),
			created:   map[string]any{"object": "charge", "status": "succeeded", "paid": true, "captured": true, "amount_captured": 2000, "payment_method_details.card.last4": "4242"},
			update:    vals("description", "Car", "metadata[a]", "1"),
			updated:   map[string]any{"description": "Car", "metadata.a": "1"},
			unset:     vals("description", ""),
			unsetWant: map[string]any{"description": nil},
		},
		{
			name: "refund", path: "/v1/refunds",
			create:    vals("charge", "{charge}", "amount", "500"),
			created:   map[string]any{"object": "refund", "amount": 500, "status": "succeeded", "charge": "{charge}", "currency": "usd"},
			update:    vals("metadata[why]", "dup"),
			updated:   map[string]any{"metadata.why": "dup", "amount": 500},
			unset:     vals("metadata[why]", ""),
			unsetWant: map[string]any{"metadata": map[string]any{}},
		},
		{
			name: "card", path: "/v1/customers/{cus}/sources",
			create:     vals("source", "tok_amex"),
			created:    map[string]any{"object": "card", "brand": "American Express", "last4": "8431", "customer": "{cus}", "funding": "credit"},
			update:     vals("address_country", "US", "name", "Ann"),
			updated:    map[string]any{"address_country": "US", "name": "Ann", "last4": "8431"},
			unset:      vals("name", ""),
			unsetWant:  map[string]any{"name": nil},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "card", "last4": "8431"}, afterDelete: 404,
		},
		{
			name: "product", path: "/v1/products",
			create:     vals("name", "Gadget", "description", "Shiny", "shippable", "true"),
			created:    map[string]any{"object": "product", "name": "Gadget", "active": true, "shippable": true, "images": []any{}},
			update:     vals("name", "Gadget 2"),
			updated:    map[string]any{"name": "Gadget 2", "description": "Shiny"},
			unset:      vals("description", ""),
			unsetWant:  map[string]any{"description": nil},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "product"}, afterDelete: 404,
		},
		{
			name: "price", path: "/v1/prices",
			create:    vals("currency", "usd", "product", "{prod}", "unit_amount", "1200"),
			created:   map[string]any{"object": "price", "active": true, "type": "one_time", "unit_amount": 1200, "unit_amount_decimal": "1200", "billing_scheme": "per_unit", "product": "{prod}"},
			update:    vals("nickname", "Price Update"),
			updated:   map[string]any{"nickname": "Price Update", "unit_amount": 1200},
			unset:     vals("nickname", ""),
			unsetWant: map[string]any{"nickname": nil},
		},
		{
			name: "invoice", path: "/v1/invoices",
			create:     vals("customer", "{cus}"),
			created:    map[string]any{"object": "invoice", "status": "draft", "customer": "{cus}", "customer_email": "fix@example.com", "number": nil, "amount_due": 0, "lines.object": "list"},
			update:     vals("description", "Invoice for car"),
			updated:    map[string]any{"description": "Invoice for car"},
			unset:      vals("description", ""),
			unsetWant:  map[string]any{"description": nil},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "invoice"}, afterDelete: 404,
		},
		{
			name: "invoiceitem", path: "/v1/invoiceitems",
			create:     vals("customer", "{cus}", "currency", "usd", "amount", "1000"),
			created:    map[string]any{"object": "invoiceitem", "amount": 1000, "quantity": 1, "invoice": nil, "customer": "{cus}"},
			update:     vals("quantity", "3"),
			updated:    map[string]any{"quantity": 3, "amount": 3000},
			unset:      vals("description", ""),
			unsetWant:  map[string]any{"description": nil, "amount": 3000},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "invoiceitem"}, afterDelete: 404,
		},
		{
			name: "quote", path: "/v1/quotes",
			create:    vals("customer", "{cus}", "line_items[0][price]", "{price}", "line_items[0][quantity]", "2"),
			created:   map[string]any{"object": "quote", "status": "draft", "amount_total": 2400, "customer": "{cus}"},
			update:    vals("description", "Quote"),
			updated:   map[string]any{"description": "Quote", "amount_total": 2400},
			unset:     vals("description", ""),
			unsetWant: map[string]any{"description": nil},
		},
		{
			name: "account", path: "/v1/accounts",
			create:     vals("type", "standard"),
			created:    map[string]any{"object": "account", "type": "standard", "country": "US", "charges_enabled": false},
			update:     vals("business_profile[name]", "StagingName"),
			updated:    map[string]any{"business_profile.name": "StagingName", "business_profile.url": nil},
			unset:      vals("email", ""),
			unsetWant:  map[string]any{"email": nil},
			deleteCode: 200, deleteWant: map[string]any{"deleted": true, "object": "account"}, afterDelete: 404,
		},
		{
			name: "subscription", path: "/v1/subscriptions",
			create:     vals("customer", "{cus}", "items[0][price]", "{monthly}", "items[0][quantity]", "2"),
			created:    map[string]any{"object": "subscription", "status": "active", "customer": "{cus}", "items.data.quantity": 2, "items.data.price.id": "{monthly}"},
			update:     vals("metadata[a]", "b", "description", "Sub"),
			updated:    map[string]any{"metadata.a": "b", "description": "Sub"},
			unset:      vals("description", ""),
			unsetWant:  map[string]any{"description": nil},
			deleteCode: 200, deleteWant: map[string]any{"object": "subscription", "status": "canceled"}, afterDelete: 200,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, New(WithClock(newTestClock().now)))
			f := newFixture(t, c)
			extra := map[string]string{
				"{charge}": idOf(t, c.post("/v1/charges", vals("amount", "2000", "currency", "usd", "source", "tok_visa"))),
			}
			path := expand(tc.path, f, extra)
			want := func(m map[string]any) map[string]any {
				out := map[string]any{}
				for k, v := range m {
					if s, ok := v.(string); ok {
						v = expand(s, f, extra)
					}
					out[k] = v
				}
				return out
			}

			created := c.post(path, expandForm(tc.create, f, extra)).mustOK(t)
			id := created["id"].(string)
			wantFields(t, created, want(tc.created))
			got := c.get(path+"/"+id, nil).mustOK(t)
			if fmt.Sprint(got) != fmt.Sprint(created) {
				t.Errorf("retrieve differs from create:\n%v\n%v", got, created)
			}

			wantFields(t, c.post(path+"/"+id, tc.update).mustOK(t), want(tc.updated))
			wantFields(t, c.post(path+"/"+id, tc.unset).mustOK(t), want(tc.unsetWant))
			wantFields(t, c.get(path+"/"+id, nil).mustOK(t), want(tc.unsetWant))

			del := c.del(path + "/" + id)
			if tc.deleteCode == 0 {
				e := del.wantError(t, http.StatusNotFound, "invalid_request_error", "", "")
				if msg := e["message"].(string); !strings.HasPrefix(msg, "Unrecognized request URL (DELETE: "+path+"/"+id+")") {
					t.Errorf("message = %q", msg)
				}
				return
			}
			if del.status != tc.deleteCode {
				t.Fatalf("DELETE status %d: %s", del.status, del.raw)
			}
			wantFields(t, del.body, want(tc.deleteWant))
			if del.body["id"] != id {
				t.Errorf("DELETE id = %v", del.body["id"])
			}
			if r := c.get(path+"/"+id, nil); r.status != tc.afterDelete {
				t.Errorf("retrieve after DELETE: %d, want %d: %s", r.status, tc.afterDelete, r.raw)
			}
		})
	}
}

// TestObjectsCarryEverySchemaProperty checks that created objects have
// exactly the top-level properties of their spec schema.
func TestObjectsCarryEverySchemaProperty(t *testing.T) {
	e := NewDemo()
	for name, fields := range spec().Objects {
		if name == "event" {
			continue // not stored; TestEventShape checks events
		}
		ids := e.IDs(name)
		if len(ids) == 0 {
			t.Errorf("no demo %s", name)
			continue
		}
		var want []string
		for _, f := range fields {
			want = append(want, f.Name)
		}
		for _, id := range ids {
			var got []string
			for k := range e.Get(name, id) {
				got = append(got, k)
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s has properties %v, want %v", name, id, got, want)
				break
			}
		}
	}
}

func TestRetrieveMissing(t *testing.T) {
	c := newClient(t, New())
	cus := idOf(t, c.post("/v1/customers", nil))
	cases := []struct{ path, word string }{
		{"/v1/customers/cus_x", "customer"},
		{"/v1/payment_intents/pi_x", "payment_intent"},
		{"/v1/payment_methods/pm_x", "PaymentMethod"},
		{"/v1/charges/ch_x", "charge"},
		{"/v1/refunds/re_x", "refund"},
		{"/v1/products/prod_x", "product"},
		{"/v1/prices/price_x", "price"},
		{"/v1/invoices/in_x", "invoice"},
		{"/v1/invoiceitems/ii_x", "invoiceitem"},
		{"/v1/quotes/qt_x", "quote"},
		{"/v1/accounts/acct_x", "account"},
		{"/v1/subscriptions/sub_x", "subscription"},
		{"/v1/customers/" + cus + "/sources/card_x", "source"},
	}
	for _, tc := range cases {
		id := tc.path[strings.LastIndex(tc.path, "/")+1:]
		e := c.get(tc.path, nil).wantError(t, http.StatusNotFound, "invalid_request_error", "resource_missing", "id")
		if want := fmt.Sprintf("No such %s: '%s'", tc.word, id); e["message"] != want {
			t.Errorf("%s: message %q, want %q", tc.path, e["message"], want)
		}
	}
	// A card of another customer is not found under this one.
	other := idOf(t, c.post("/v1/customers", vals("source", "tok_visa")))
	card := c.get("/v1/customers/"+other, nil).mustOK(t)["default_source"].(string)
	c.get("/v1/customers/"+cus+"/sources/"+card, nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	c.get("/v1/customers/cus_nope/sources", nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
}

func TestUnrecognizedURLs(t *testing.T) {
	c := newClient(t, New())
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/widgets"},
		{"DELETE", "/v1/charges/ch_x"},
		{"DELETE", "/v1/refunds/re_x"},
		{"DELETE", "/v1/payment_intents/pi_x"},
		{"DELETE", "/v1/prices/price_x"},
		{"DELETE", "/v1/payment_methods/pm_x"},
		{"DELETE", "/v1/quotes/qt_x"},
		{"POST", "/v1/customers/cus_x/explode"},
		{"GET", "/v1/refunds/re_x/cancel"},
	} {
		e := c.do(p.method, p.path, nil).wantError(t, http.StatusNotFound, "invalid_request_error", "", "")
		want := fmt.Sprintf("Unrecognized request URL (%s: %s).", p.method, p.path)
		if !strings.HasPrefix(e["message"].(string), want) {
			t.Errorf("message %q, want prefix %q", e["message"], want)
		}
	}
}

func TestRequiredAndUnknownParams(t *testing.T) {
	c := newClient(t, New())
	f := newFixture(t, c)
	cases := []struct {
		path  string
		form  url.Values
		code  string
		param string
	}{
		{"/v1/payment_intents", vals("currency", "usd"), "parameter_missing", "amount"},
		{"/v1/payment_intents", vals("amount", "100"), "parameter_missing", "currency"},
		{"/v1/payment_intents", vals("amount", "abc", "currency", "usd"), "parameter_invalid_integer", "amount"},
		{"/v1/prices", vals("product", f.prod, "unit_amount", "1"), "parameter_missing", "currency"},
		{"/v1/prices", vals("currency", "usd", "unit_amount", "1"), "parameter_missing", "product"},
		{"/v1/prices", vals("currency", "usd", "product", "prod_nope", "unit_amount", "1"), "resource_missing", "product"},
		{"/v1/prices", vals("currency", "usd", "product_data[active]", "true", "unit_amount", "1"), "parameter_missing", "product_data[name]"},
		{"/v1/invoiceitems", vals("amount", "100", "currency", "usd"), "parameter_missing", "customer"},
		{"/v1/refunds", vals("amount", "100"), "parameter_missing", "charge"},
		{"/v1/customers/" + f.cus + "/sources", vals(), "parameter_missing", "source"},
		{"/v1/customers/" + f.cus + "/sources", vals("source", "tok_bogus"), "resource_missing", "source"},
		{"/v1/products", vals("description", "x"), "parameter_missing", "name"},
		{"/v1/customers", vals("foo", "bar"), "parameter_unknown", "foo"},
		{"/v1/customers", vals("metadata", "x"), "", "metadata"},
		{"/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.price), "", "items[0][price]"},
		{"/v1/subscriptions", vals("customer", f.cus), "parameter_missing", "items"},
	}
	for _, tc := range cases {
		c.post(tc.path, tc.form).wantError(t, http.StatusBadRequest, "invalid_request_error", tc.code, tc.param)
	}
	e := c.get("/v1/customers", vals("foo", "1")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "foo")
	if e["message"] != "Received unknown parameter: foo" {
		t.Errorf("message %q", e["message"])
	}
}

func TestAuthentication(t *testing.T) {
	e := New()
	c := newClient(t, e)
	c.headers = map[string]string{}
	r := c.get("/v1/customers", nil)
	r.wantError(t, http.StatusUnauthorized, "invalid_request_error", "", "")
	if !strings.Contains(r.body["error"].(map[string]any)["message"].(string), "API key") {
		t.Errorf("message: %s", r.raw)
	}
	c.headers = map[string]string{"Authorization": "Bearer "}
	c.get("/v1/customers", nil).wantError(t, http.StatusUnauthorized, "invalid_request_error", "", "")
	c.headers = map[string]string{"Authorization": "Bearer anything", "Stripe-Account": "acct_123"}
	if r := c.get("/v1/customers", nil); r.status != 200 || !strings.HasPrefix(r.header.Get("Request-Id"), "req_") {
		t.Fatalf("status %d, Request-Id %q", r.status, r.header.Get("Request-Id"))
	}
	log := e.Requests()
	if len(log) != 3 || log[2].Account != "acct_123" || log[0].Status != 401 || log[2].Status != 200 {
		t.Errorf("log = %+v", log)
	}
}

func TestDeletedCustomerIsATombstone(t *testing.T) {
	e := New()
	c := newClient(t, e)
	f := newFixture(t, c)
	sub := idOf(t, c.post("/v1/subscriptions", vals("customer", f.cus, "items[0][price]", f.monthly)))
	c.del("/v1/customers/" + f.cus).mustOK(t)
	got := c.get("/v1/customers/"+f.cus, nil).mustOK(t)
	if fmt.Sprint(got) != fmt.Sprint(map[string]any{"id": f.cus, "object": "customer", "deleted": true}) {
		t.Errorf("retrieve deleted = %v", got)
	}
	if n := len(c.get("/v1/customers", nil).mustOK(t)["data"].([]any)); n != 0 {
		t.Errorf("deleted customer listed")
	}
	c.post("/v1/customers/"+f.cus, vals("name", "x")).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	c.del("/v1/customers/"+f.cus).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	if e.Count("customer") != 0 || e.Count("card") != 0 {
		t.Errorf("counts: customers %d cards %d", e.Count("customer"), e.Count("card"))
	}
	if s := c.get("/v1/subscriptions/"+sub, nil).mustOK(t)["status"]; s != "canceled" {
		t.Errorf("subscription of deleted customer: %v", s)
	}
	if pm := c.get("/v1/payment_methods/"+f.pm, nil).mustOK(t)["customer"]; pm != nil {
		t.Errorf("payment method still attached to %v", pm)
	}
}

func TestCardsAndDefaultSource(t *testing.T) {
	c := newClient(t, New(WithClock(newTestClock().now)))
	cus := idOf(t, c.post("/v1/customers", nil))
	a := idOf(t, c.post("/v1/customers/"+cus+"/sources", vals("source", "tok_visa")))
	b := idOf(t, c.post("/v1/customers/"+cus+"/sources", vals("source", "tok_mastercard")))
	if d := c.get("/v1/customers/"+cus, nil).mustOK(t)["default_source"]; d != a {
		t.Fatalf("default_source %v, want first card %s", d, a)
	}
	list := c.get("/v1/customers/"+cus+"/sources", vals("object", "card")).mustOK(t)
	if got := ids(list); !slices.Equal(got, []string{b, a}) || list["url"] != "/v1/customers/"+cus+"/sources" {
		t.Errorf("cards %v url %v", got, list["url"])
	}
	if n := len(c.get("/v1/customers/"+cus+"/sources", vals("object", "bank_account")).mustOK(t)["data"].([]any)); n != 0 {
		t.Errorf("bank accounts listed: %d", n)
	}
	c.del("/v1/customers/" + cus + "/sources/" + a).mustOK(t)
	if d := c.get("/v1/customers/"+cus, nil).mustOK(t)["default_source"]; d != b {
		t.Errorf("default_source after detach %v, want %s", d, b)
	}
}

func TestProductWithPricesCannotBeDeleted(t *testing.T) {
	c := newClient(t, New())
	f := newFixture(t, c)
	c.del("/v1/products/"+f.prod).wantError(t, 400, "invalid_request_error", "", "")
	withData := c.post("/v1/products", vals("name", "Bundle", "default_price_data[currency]", "usd", "default_price_data[unit_amount]", "700")).mustOK(t)
	price := c.get("/v1/prices/"+withData["default_price"].(string), nil).mustOK(t)
	wantFields(t, price, map[string]any{"unit_amount": 700, "product": withData["id"]})
	custom := c.post("/v1/products", vals("id", "prod_custom", "name", "Custom")).mustOK(t)
	if custom["id"] != "prod_custom" {
		t.Errorf("custom id %v", custom["id"])
	}
	c.post("/v1/products", vals("id", "prod_custom", "name", "Again")).wantError(t, 400, "invalid_request_error", "resource_already_exists", "id")
}
