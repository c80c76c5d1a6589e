package emulator

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// searchFixture creates customers and payment intents with known fields
// and returns their ids by a short name.
func searchFixture(t *testing.T, c *apiClient, clk *testClock) map[string]string {
	t.Helper()
	ids := map[string]string{}
	customers := []struct {
		name string
		form url.Values
	}{
		{"alice", vals("email", "alice@example.com", "name", "Alice Smith", "phone", "+15550001", "metadata[tier]", "gold")},
		{"bob", vals("email", "bob@example.com", "name", "Bob Jones", "metadata[tier]", "silver")},
		{"carol", vals("email", "carol@other.test", "name", "Carol Smith")},
		{"noemail", vals("name", "No Email")},
		{"quoted", vals("email", "q@example.com", "name", `Dwayne "The Rock" Johnson`)},
		{"slash", vals("email", "s@example.com", "name", `back\slash`)},
		{"inject", vals("email", `x" OR email:"bob@example.com`)},
	}
	for _, cu := range customers {
		ids[cu.name] = idOf(t, c.post("/v1/customers", cu.form))
		clk.advance(time.Second)
	}
	pis := []struct {
		name   string
		amount string
		cur    string
		cus    string
	}{
		{"pi500", "500", "usd", "alice"}, {"pi1000", "1000", "usd", "alice"}, {"pi2500", "2500", "eur", "bob"},
	}
	for _, p := range pis {
		ids[p.name] = idOf(t, c.post("/v1/payment_intents", vals("amount", p.amount, "currency", p.cur, "customer", ids[p.cus],
			"payment_method", "pm_card_visa", "confirm", "true")))
		clk.advance(time.Second)
	}
	return ids
}

func TestSearch(t *testing.T) {
	clk := newTestClock()
	c := newClient(t, New(WithClock(clk.now)))
	id := searchFixture(t, c, clk)
	t0 := newTestClock().now().Unix()
	cases := []struct {
		path  string
		query string
		want  []string // names, any order
	}{
		{"/v1/customers/search", `email:"ALICE@example.com"`, []string{"alice"}},
		{"/v1/customers/search", `email~"EXAMPLE.com"`, []string{"alice", "bob", "inject", "quoted", "slash"}},
		{"/v1/customers/search", `name:"carol smith"`, []string{"carol"}},
		{"/v1/customers/search", `name~"smith"`, []string{"alice", "carol"}},
		{"/v1/customers/search", `name~'smith' AND -email:'alice@example.com'`, []string{"carol"}},
		{"/v1/customers/search", `email:"alice@example.com" OR email:"bob@example.com"`, []string{"alice", "bob"}},
		{"/v1/customers/search", `email:"alice@example.com" or email:"bob@example.com"`, []string{"alice", "bob"}},
		{"/v1/customers/search", `name~"smith" and phone:"+15550001"`, []string{"alice"}},
		{"/v1/customers/search", `name~"smith" phone:"+15550001"`, []string{"alice"}},
		{"/v1/customers/search", `email:null`, []string{"noemail"}},
		{"/v1/customers/search", `-email:null AND email~"other"`, []string{"carol"}},
		{"/v1/customers/search", `metadata["tier"]:"gold"`, []string{"alice"}},
		{"/v1/customers/search", `-metadata["tier"]:null`, []string{"alice", "bob"}},
		{"/v1/customers/search", `metadata['tier']:null AND name~"smith"`, []string{"carol"}},
		{"/v1/customers/search", fmt.Sprintf("created>=%d AND created<%d", t0+1, t0+3), []string{"bob", "carol"}},
		{"/v1/customers/search", fmt.Sprintf("created=%d", t0), []string{"alice"}},
		{"/v1/customers/search", `name:"Dwayne \"The Rock\" Johnson"`, []string{"quoted"}},
		{"/v1/customers/search", `name:"back\\slash"`, []string{"slash"}},
		// An injection attempt matches only the literal value.
		{"/v1/customers/search", `email:"x\" OR email:\"bob@example.com"`, []string{"inject"}},
		{"/v1/customers/search", `email:"x" OR email:"bob@example.com"`, []string{"bob"}},
		{"/v1/payment_intents/search", `amount>=1000 AND currency:"usd"`, []string{"pi1000"}},
		{"/v1/payment_intents/search", `amount>600`, []string{"pi1000", "pi2500"}},
		{"/v1/payment_intents/search", `amount<=1000 AND -amount:500`, []string{"pi1000"}},
		{"/v1/payment_intents/search", `status:"SUCCEEDED" AND customer:"` + id["alice"] + `"`, []string{"pi500", "pi1000"}},
	}
	names := map[string]string{}
	for k, v := range id {
		names[v] = k
	}
	for _, tc := range cases {
		body := c.get(tc.path, vals("query", tc.query, "limit", "100")).mustOK(t)
		var got []string
		for _, x := range ids(body) {
			got = append(got, names[x])
		}
		slices.Sort(got)
		want := slices.Clone(tc.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", tc.query, got, want)
		}
		if body["object"] != "search_result" || body["url"] != tc.path || body["next_page"] != nil {
			t.Errorf("%s: envelope %v %v %v", tc.query, body["object"], body["url"], body["next_page"])
		}
	}
}

func TestSearchRejects(t *testing.T) {
	c := newClient(t, New())
	eleven := strings.TrimSuffix(strings.Repeat(`name:"a" AND `, 11), " AND ")
	ten := strings.TrimSuffix(strings.Repeat(`name:"a" AND `, 10), " AND ")
	cases := []struct{ query, wantInMessage string }{
		{`email:"a" AND name:"b" OR name:"c"`, "AND and OR"},
		{eleven, "at most 10"},
		{`foo:"x"`, "`foo`"},
		{`email>"a"`, "`>`"},
		{`created~"123"`, "`~`"},
		{`name~"ab"`, "at least 3"},
		{`name:bob`, "quoted"},
		{`amount:"x"`, "unsupported"},
		{`name:"unterminated`, "Unterminated"},
		{`name:"a" AND`, ""},
		{`metadata:"x"`, "metadata"},
		{`created>abc`, "quoted"},
		{``, "empty"},
	}
	for _, tc := range cases {
		e := c.get("/v1/customers/search", vals("query", tc.query)).wantError(t, 400, "invalid_request_error", "", "query")
		if !strings.Contains(e["message"].(string), tc.wantInMessage) {
			t.Errorf("%q: message %q does not mention %q", tc.query, e["message"], tc.wantInMessage)
		}
	}
	c.get("/v1/customers/search", vals("query", ten)).mustOK(t)
	c.get("/v1/customers/search", nil).wantError(t, 400, "invalid_request_error", "parameter_missing", "query")
	c.get("/v1/customers/search", vals("query", `email:"a"`, "starting_after", "x")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "starting_after")
	// Refunds have no search: "search" is taken as an id.
	c.get("/v1/refunds/search", vals("query", "x")).wantError(t, 400, "invalid_request_error", "parameter_unknown", "query")
	c.get("/v1/refunds/search", nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
}

func TestSearchFieldsPerResource(t *testing.T) {
	e := NewDemo()
	c := newClient(t, e)
	cases := []struct {
		path, query string
		check       func(o map[string]any) bool
	}{
		{"/v1/charges/search", `refunded:"true"`, func(o map[string]any) bool { return o["refunded"] == true }},
		{"/v1/charges/search", `refunded:"false"`, func(o map[string]any) bool { return o["refunded"] == false && o["amount_refunded"].(float64) > 0 }},
		{"/v1/charges/search", `status:"failed"`, func(o map[string]any) bool { return o["status"] == "failed" }},
		{"/v1/charges/search", `payment_method_details.card.brand:"amex"`, func(o map[string]any) bool { return at(o, "payment_method_details.card.brand") == "amex" }},
		{"/v1/invoices/search", `total>10000 AND status:"paid"`, func(o map[string]any) bool { return o["total"].(float64) > 10000 && o["status"] == "paid" }},
		{"/v1/invoices/search", `number~"-000"`, func(o map[string]any) bool { return o["number"] != nil }},
		{"/v1/prices/search", `active:"false"`, func(o map[string]any) bool { return o["active"] == false }},
		{"/v1/prices/search", `lookup_key~"monthly" AND type:"recurring"`, func(o map[string]any) bool { return strings.Contains(fmt.Sprint(o["lookup_key"]), "monthly") }},
		{"/v1/products/search", `name~"plan" AND metadata["category"]:"subscription"`, func(o map[string]any) bool { return strings.Contains(o["name"].(string), "Plan") }},
		{"/v1/products/search", `shippable:"true" AND active:"false"`, func(o map[string]any) bool { return o["shippable"] == true && o["active"] == false }},
		{"/v1/subscriptions/search", `status:"canceled" AND canceled_at>0`, func(o map[string]any) bool { return o["status"] == "canceled" }},
		{"/v1/subscriptions/search", `metadata["plan_source"]:"web"`, func(o map[string]any) bool { return at(o, "metadata.plan_source") == "web" }},
	}
	for _, tc := range cases {
		body := c.get(tc.path, vals("query", tc.query, "limit", "100")).mustOK(t)
		data := body["data"].([]any)
		if len(data) == 0 {
			t.Errorf("%s %s: no results", tc.path, tc.query)
		}
		for _, d := range data {
			if !tc.check(d.(map[string]any)) {
				t.Errorf("%s %s: unexpected %v", tc.path, tc.query, d.(map[string]any)["id"])
			}
		}
	}
}

func TestSearchPaging(t *testing.T) {
	c := newClient(t, NewDemo())
	q := `-email:null`
	wantTotal := int64(240) // 10 demo customers have no email
	var all []string
	page := ""
	for pages := 0; ; pages++ {
		v := vals("query", q, "limit", "20", "expand[]", "total_count")
		if page != "" {
			v.Set("page", page)
		}
		body := c.get("/v1/customers/search", v).mustOK(t)
		all = append(all, ids(body)...)
		if total, _ := asInt(body["total_count"]); pages > 0 && total != wantTotal {
			t.Errorf("page %d: total_count %v, want %d", pages, body["total_count"], wantTotal)
		}
		if body["has_more"] != true {
			if body["next_page"] != nil {
				t.Error("next_page on the last page")
			}
			break
		}
		page = body["next_page"].(string)
	}
	want := ids(c.get("/v1/customers/search", vals("query", q, "limit", "100")).mustOK(t))
	if len(want) != 100 {
		t.Fatalf("expected more than 100 matches, got %d on one page", len(want))
	}
	if len(all) <= 100 || !slices.Equal(all[:100], want) || len(slices.Compact(slices.Sorted(slices.Values(all)))) != len(all) {
		t.Errorf("paged %d results; first 100 match one-page search: %v", len(all), slices.Equal(all[:100], want))
	}
	c.get("/v1/customers/search", vals("query", q, "page", "garbage")).wantError(t, 400, "invalid_request_error", "", "page")
}

// TestSearchLag checks that new and updated objects reach search only after
// the configured lag.
func TestSearchLag(t *testing.T) {
	clk := newTestClock()
	c := newClient(t, New(WithClock(clk.now), WithSearchLag(time.Minute)))
	id := idOf(t, c.post("/v1/customers", vals("email", "lag@example.com")))
	search := func() []string {
		return ids(c.get("/v1/customers/search", vals("query", `email:"lag@example.com"`)).mustOK(t))
	}
	if got := search(); len(got) != 0 {
		t.Fatalf("visible at once: %v", got)
	}
	if got := ids(c.get("/v1/customers", vals("email", "lag@example.com")).mustOK(t)); len(got) != 1 {
		t.Fatalf("list is not read-after-write: %v", got)
	}
	clk.advance(59 * time.Second)
	if got := search(); len(got) != 0 {
		t.Fatalf("visible after 59s: %v", got)
	}
	clk.advance(time.Second)
	if got := search(); !slices.Equal(got, []string{id}) {
		t.Fatalf("after 60s: %v", got)
	}
	c.post("/v1/customers/"+id, vals("name", "Updated")).mustOK(t)
	if got := search(); len(got) != 0 {
		t.Errorf("visible right after update: %v", got)
	}
	clk.advance(time.Minute)
	if got := search(); len(got) != 1 {
		t.Errorf("not visible a minute after update: %v", got)
	}
}
