package specvalidate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stripesql/stripesql/emulator"
)

// call sends one request to h and decodes the JSON answer.
func call(t *testing.T, h http.Handler, method, target, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_demo_anything")
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: not JSON (%d): %s", method, target, rec.Code, rec.Body.String())
	}
	return rec.Code, out
}

func wrapDemo(t *testing.T, opts ...emulator.Option) (*emulator.Emulator, http.Handler) {
	t.Helper()
	e := emulator.NewDemo(opts...)
	h, err := Wrap(e)
	if err != nil {
		t.Fatal(err)
	}
	return e, h
}

func TestMisspelledFilterNeverReachesEmulator(t *testing.T) {
	e, h := wrapDemo(t)
	status, body := call(t, h, "GET", "/v1/customers?emial=alice.smith%40example.com", "")
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %v", status, body)
	}
	if typ := body["error"].(map[string]any)["type"]; typ != "invalid_request_error" {
		t.Errorf("error type %v", typ)
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("emulator saw %d requests, want 0", n)
	}
}

func TestValidFilterReturnsEmulatorRows(t *testing.T) {
	e, h := wrapDemo(t)
	status, body := call(t, h, "GET", "/v1/customers?email=Alice.Smith%40Example.com", "")
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, body)
	}
	data := body["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["email"] != "Alice.Smith@Example.com" {
		t.Fatalf("rows = %v, want the one demo customer with that email", data)
	}
	if reqs := e.Requests(); len(reqs) != 1 || reqs[0].Path != "/v1/customers" {
		t.Errorf("emulator log = %+v", reqs)
	}
}

// The demo's test clocks (see the emulator's demo tests).
const (
	demoRenewalClock = "clock_xVAUlckUZy9uklu3GQBNcHOX"
	demoTrialClock   = "clock_SXyBq6823cCNhtlObq7OB9Od"
)

// TestDemoListsAreSpecValid lists every resource of the demo account, all
// pages, through the validator: the emulator's paths, filters and cursors
// are all accepted by the spec, and every object is returned.
func TestDemoListsAreSpecValid(t *testing.T) {
	e, h := wrapDemo(t)
	custWithCards := e.IDs("customer")[len(e.IDs("customer"))-1] // the oldest customer has cards
	lists := []struct {
		path   string
		extra  string
		object string
		want   int
	}{
		{"/v1/accounts", "", "account", e.Count("account")},
		{"/v1/charges", "", "charge", e.Count("charge")},
		{"/v1/customers", "&test_clock=" + demoRenewalClock, "customer", 2},
		{"/v1/customers", "&test_clock=" + demoTrialClock, "customer", 2},
		{"/v1/customers", "&created[gte]=1704067200", "customer", e.Count("customer") - 4},
		{"/v1/customers/" + custWithCards + "/sources", "&object=card", "card", 3},
		{"/v1/invoiceitems", "", "invoiceitem", e.Count("invoiceitem")},
		{"/v1/invoices", "&status=paid", "invoice", -1},
		{"/v1/payment_intents", "", "payment_intent", e.Count("payment_intent")},
		{"/v1/payment_methods", "&type=card", "payment_method", e.Count("payment_method")},
		{"/v1/prices", "&active=false", "price", 8},
		{"/v1/products", "&active=true&shippable=true", "product", -1},
		{"/v1/quotes", "&status=open", "quote", 3},
		{"/v1/refunds", "", "refund", e.Count("refund")},
		{"/v1/subscriptions", "&status=all", "subscription", e.Count("subscription") - 4}, // 4 on test clocks
		{"/v1/subscriptions", "&status=all&test_clock=" + demoTrialClock, "subscription", 2},
		{"/v1/test_helpers/test_clocks", "", "test_helpers.test_clock", 2},
	}
	for _, l := range lists {
		t.Run(strings.TrimPrefix(l.path, "/v1/")+l.extra, func(t *testing.T) {
			seen := map[string]bool{}
			cursor := ""
			for page := 0; ; page++ {
				status, body := call(t, h, "GET", l.path+"?limit=100"+l.extra+cursor, "")
				if status != http.StatusOK {
					t.Fatalf("page %d: status %d: %v", page, status, body)
				}
				data := body["data"].([]any)
				for _, d := range data {
					o := d.(map[string]any)
					if o["object"] != l.object {
						t.Fatalf("object %v, want %s", o["object"], l.object)
					}
					seen[o["id"].(string)] = true
				}
				if body["has_more"] != true {
					break
				}
				cursor = "&starting_after=" + data[len(data)-1].(map[string]any)["id"].(string)
			}
			if l.want >= 0 && len(seen) != l.want {
				t.Errorf("listed %d objects, want %d", len(seen), l.want)
			}
			if len(seen) == 0 {
				t.Error("listed nothing")
			}
		})
	}
}

// TestValidRequestsPassUnchanged sends create, update, delete, action and
// search requests through the validator and directly to a second, identical
// emulator: stripe-mock accepts each one and the answers are the same.
func TestValidRequestsPassUnchanged(t *testing.T) {
	// Both emulators read one stopped clock: on the wall clock, a step's
	// two calls could fall either side of a second (a loaded machine
	// answered paid_at 1795901425 through the validator and 1795901426
	// directly) and the answers would differ by that alone.
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := emulator.WithClock(func() time.Time { return now })
	_, h := wrapDemo(t, clock)
	direct := emulator.NewDemo(clock)
	q := url.QueryEscape
	steps := []struct{ method, path, body string }{
		// Lists with filters, search with queries.
		{"GET", "/v1/customers?limit=3&created[gte]=1704067200&created[lt]=1751328000&expand[]=data.default_source", ""},
		{"GET", "/v1/invoices?status=open&collection_method=send_invoice&limit=5&due_date[gt]=0", ""},
		{"GET", "/v1/subscriptions?status=ended&limit=5&current_period_end[gte]=0&automatic_tax[enabled]=false", ""},
		{"GET", "/v1/prices?recurring[interval]=month&type=recurring&lookup_keys[]=pro_monthly&active=true", ""},
		{"GET", "/v1/invoiceitems?pending=true&limit=2", ""},
		{"GET", "/v1/products?ids[]=prod_x&ids[]=prod_y&shippable=false", ""},
		{"GET", "/v1/customers/search?query=" + q(`email~"example" AND -metadata["tier"]:null`) + "&limit=5&expand[]=total_count", ""},
		{"GET", "/v1/charges/search?query=" + q(`amount>1000 AND status:"succeeded" AND refunded:null`), ""},
		{"GET", "/v1/invoices/search?query=" + q(`total>=1000 OR status:"void"`), ""},
		{"GET", "/v1/payment_intents/search?query=" + q(`currency:"eur"`), ""},
		{"GET", "/v1/prices/search?query=" + q(`lookup_key~"monthly"`), ""},
		{"GET", "/v1/products/search?query=" + q(`name~"plan" active:"true"`), ""},
		{"GET", "/v1/subscriptions/search?query=" + q(`status:"canceled"`) + "&page=" + "page_eA", ""},
		// Creates, updates, deletes and actions.
		{"POST", "/v1/customers", "email=new%40example.com&name=New&metadata[tier]=gold&address[country]=US"},
		{"POST", "/v1/customers/CUS", "description=&metadata[tier]=&invoice_settings[footer]=Thanks"},
		{"POST", "/v1/customers/CUS/sources", "source=tok_visa"},
		{"POST", "/v1/customers/CUS/sources/CARD", "address_country=US&name=Ann&exp_year=2031"},
		{"POST", "/v1/customers/CUS/sources", "source=tok_mastercard"},
		{"DELETE", "/v1/customers/CUS/sources/CARD", ""},
		{"POST", "/v1/products", "name=Gadget&shippable=true"},
		{"POST", "/v1/prices", "currency=usd&product=PROD&unit_amount=1200&recurring[interval]=month"},
		{"POST", "/v1/prices/PRICE", "nickname=Price+Update&metadata[a]=b"},
		{"POST", "/v1/payment_methods", "type=card&card[token]=tok_amex"},
		{"POST", "/v1/payment_methods/PM/attach", "customer=CUS"},
		{"POST", "/v1/payment_intents", "amount=1500&currency=usd&payment_method=PM&customer=CUS&capture_method=manual"},
		{"POST", "/v1/payment_intents/PI", "description=Payment+Intent"},
		{"POST", "/v1/payment_intents/PI/confirm", ""},
		{"POST", "/v1/payment_intents/PI/capture", "amount_to_capture=1000"},
		{"POST", "/v1/refunds", "payment_intent=PI&amount=500&reason=requested_by_customer"},
		{"POST", "/v1/payment_intents", "amount=2500&currency=eur"},
		{"POST", "/v1/payment_intents/PI/cancel", "cancellation_reason=abandoned"},
		{"POST", "/v1/charges", "amount=2000&currency=usd&source=tok_visa"},
		{"POST", "/v1/charges/CH/refund", "amount=100"},
		{"POST", "/v1/payment_methods/PM/detach", ""},
		{"POST", "/v1/invoiceitems", "customer=CUS&amount=1500&currency=usd&description=Work"},
		{"POST", "/v1/invoiceitems/II", "quantity=3"},
		{"POST", "/v1/invoices", "customer=CUS&pending_invoice_items_behavior=include&collection_method=send_invoice&days_until_due=14"},
		{"POST", "/v1/invoices/INV", "description=Invoice+for+car"},
		{"POST", "/v1/invoices/INV/finalize", "auto_advance=false"},
		{"POST", "/v1/invoices/INV/send", ""},
		{"POST", "/v1/invoices/INV/mark_uncollectible", ""},
		{"POST", "/v1/invoices/INV/pay", "paid_out_of_band=true"},
		{"POST", "/v1/invoices", "customer=CUS"},
		{"DELETE", "/v1/invoices/INV", ""},
		{"POST", "/v1/quotes", "customer=CUS&line_items[0][price]=PRICE&line_items[0][quantity]=2"},
		{"POST", "/v1/quotes/QT", "description=Quote"},
		{"POST", "/v1/quotes/QT/finalize", ""},
		{"POST", "/v1/quotes/QT/accept", ""},
		{"POST", "/v1/subscriptions", "customer=CUS&items[0][price]=PRICE&metadata[source]=test"},
		{"POST", "/v1/subscriptions/SUB", "cancel_at_period_end=true"},
		{"DELETE", "/v1/subscriptions/SUB", ""},
		{"POST", "/v1/accounts", "type=standard&business_profile[name]=StagingName&capabilities[transfers][requested]=true"},
		{"POST", "/v1/accounts/ACCT", "business_profile[name]=Renamed"},
		{"DELETE", "/v1/accounts/ACCT", ""},
		{"DELETE", "/v1/customers/CUS", ""},
		// Test clocks, and customers on them.
		{"GET", "/v1/test_helpers/test_clocks?limit=1", ""},
		{"GET", "/v1/test_helpers/test_clocks?starting_after=" + demoTrialClock, ""},
		{"GET", "/v1/test_helpers/test_clocks/" + demoRenewalClock, ""},
		{"POST", "/v1/test_helpers/test_clocks", "frozen_time=1735689600&name=Annual+renewal"},
		{"GET", "/v1/test_helpers/test_clocks/CLOCK", ""},
		{"POST", "/v1/test_helpers/test_clocks/CLOCK/advance", "frozen_time=1738368000"},
		{"POST", "/v1/customers", "name=Clocked&test_clock=CLOCK"},
		{"GET", "/v1/customers?test_clock=CLOCK&expand[]=data.test_clock", ""},
		{"GET", "/v1/customers?test_clock=" + demoRenewalClock, ""},
		{"POST", "/v1/quotes", "test_clock=CLOCK"},
		{"DELETE", "/v1/test_helpers/test_clocks/CLOCK", ""},
	}
	vars := map[string]string{}
	for _, s := range steps {
		path, body := s.path, s.body
		for k, v := range vars {
			path = strings.ReplaceAll(path, k, v)
			body = strings.ReplaceAll(body, k, v)
		}
		gotStatus, got := call(t, h, s.method, path, body)
		wantStatus, want := call(t, direct, s.method, path, body)
		if gotStatus != http.StatusOK || wantStatus != http.StatusOK {
			t.Fatalf("%s %s %s: through validator %d %v; direct %d", s.method, path, body, gotStatus, got, wantStatus)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s %s: answers differ:\n%s\n%s", s.method, path, g, w)
		}
		// Remember the newest id of each type for later steps.
		short := map[string]string{"customer": "CUS", "card": "CARD", "product": "PROD", "price": "PRICE",
			"payment_method": "PM", "payment_intent": "PI", "charge": "CH", "invoiceitem": "II", "invoice": "INV",
			"quote": "QT", "subscription": "SUB", "account": "ACCT", "test_helpers.test_clock": "CLOCK"}
		if name, ok := short[fmt.Sprint(got["object"])]; ok && got["deleted"] == nil && !(name == "CUS" && vars["CUS"] != "") {
			vars[name] = got["id"].(string)
		}
	}
}

// TestTestClockErrorsComeFromEmulator: requests that are well formed but
// name a missing clock or move a clock back in time pass stripe-mock, which
// keeps no state; the emulator answers them as Stripe does.
func TestTestClockErrorsComeFromEmulator(t *testing.T) {
	e, h := wrapDemo(t)
	status, body := call(t, h, "POST", "/v1/customers", "name=Lost&test_clock=clock_missing")
	want := `{"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing",` +
		`"message":"No such test clock: 'clock_missing'","param":"test_clock","type":"invalid_request_error"}}`
	if got, _ := json.Marshal(body); status != http.StatusNotFound || string(got) != want {
		t.Errorf("customer on a missing clock: %d %s", status, got)
	}
	status, body = call(t, h, "POST", "/v1/test_helpers/test_clocks/"+demoRenewalClock+"/advance", "frozen_time=1704067200")
	if e := body["error"].(map[string]any); status != http.StatusBadRequest || e["param"] != "frozen_time" {
		t.Errorf("advance back in time: %d %v", status, body)
	}
	// Malformed requests never reach the emulator.
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/v1/test_helpers/test_clocks", "name=no+time"},
		{"POST", "/v1/test_helpers/test_clocks", "frozen_time=soon"},
		{"POST", "/v1/test_helpers/test_clocks/" + demoRenewalClock, "name=renamed"},
		{"GET", "/v1/test_helpers/test_clocks?name=x", ""},
	} {
		if status, body := call(t, h, r.method, r.path, r.body); status < 400 || status >= 500 {
			t.Errorf("%s %s %s: %d %v", r.method, r.path, r.body, status, body)
		}
	}
	if n := len(e.Requests()); n != 2 {
		t.Errorf("emulator saw %d requests, want 2", n)
	}
}

// TestStripeMockQuirks documents what the validator rejects on the
// emulator's behalf and what it lets through.
func TestStripeMockQuirks(t *testing.T) {
	e, h := wrapDemo(t)
	for _, target := range []string{
		"/v1/invoices?status=bogus",           // enum
		"/v1/customers?created[gte]=abc",      // type
		"/v1/customers/search",                // required query
		"/v1/refunds/search?query=x",          // routed to retrieve refund "search"
		"/v1/customers?include[]=total_count", // not in the spec
	} {
		if status, body := call(t, h, "GET", target, ""); status != http.StatusBadRequest {
			t.Errorf("%s: %d %v", target, status, body)
		}
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("emulator saw %d rejected requests", n)
	}
	// Limits and search syntax are not in the spec: the emulator rejects them.
	for _, target := range []string{"/v1/customers?limit=0", "/v1/customers/search?query=" + url.QueryEscape(`name~"ab"`)} {
		status, _ := call(t, h, "GET", target, "")
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d", target, status)
		}
	}
	if n := len(e.Requests()); n != 2 {
		t.Errorf("emulator saw %d requests, want 2", n)
	}
	// Unknown URLs are stripe-mock's 404.
	if status, body := call(t, h, "DELETE", "/v1/charges/ch_x", ""); status != http.StatusNotFound ||
		!strings.HasPrefix(body["error"].(map[string]any)["message"].(string), "Unrecognized request URL (DELETE: /v1/charges/ch_x)") {
		t.Errorf("DELETE charge: %d %v", status, body)
	}
}

func TestStripeMockIsStateless(t *testing.T) {
	h, err := StripeMock()
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/customers/cus_doesnotexist", nil)
	req.Header.Set("Authorization", "Bearer sk_test_123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "cus_doesnotexist") {
		t.Fatalf("stripe-mock answered %d: %s", rec.Code, rec.Body.String())
	}
}
