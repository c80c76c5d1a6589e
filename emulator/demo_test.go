package emulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// demoJSON renders every object of a demo emulator, in list order.
func demoJSON(t *testing.T, e *Emulator) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name := range spec().Objects {
		var objs []map[string]any
		for _, id := range e.IDs(name) {
			objs = append(objs, e.Get(name, id))
		}
		b, err := json.Marshal(objs)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

func TestDemoIsDeterministic(t *testing.T) {
	a, b := demoJSON(t, NewDemo()), demoJSON(t, NewDemo())
	for name := range a {
		if a[name] != b[name] {
			t.Errorf("two NewDemo() differ in %s objects", name)
		}
	}
	// Golden ids: if the demo script changes on purpose, update them (and
	// the examples in the documentation that use them).
	e := NewDemo()
	custs := e.IDs("customer")
	oldest := e.Get("customer", custs[len(custs)-1])
	if oldest["id"] != "cus_dnn4hfeQ2l7KeV" || oldest["email"] != "Alice.Smith@Example.com" {
		t.Errorf("oldest demo customer is %v %v", oldest["id"], oldest["email"])
	}
	if got := e.IDs("test_helpers.test_clock"); fmt.Sprint(got) != fmt.Sprint([]string{demoTrialClock, demoRenewalClock}) {
		t.Errorf("demo test clocks %v, want [%s %s]", got, demoTrialClock, demoRenewalClock)
	}
	for i, want := range demoClockCustomers {
		if got := custs[len(custs)-1-i]; got != want {
			t.Errorf("demo customer %d is %s, want %s", i, got, want)
		}
	}
}

// The demo's test clocks and the customers on them (by index, oldest 0).
const (
	demoRenewalClock = "clock_xVAUlckUZy9uklu3GQBNcHOX" // customers 40 and 95
	demoTrialClock   = "clock_SXyBq6823cCNhtlObq7OB9Od" // customers 150 and 205
)

var demoClockCustomers = map[int]string{
	40: "cus_xE5YIOUsbym1cK", 95: "cus_FjO4HdGhaO8IcV", // Renewal simulation
	150: "cus_dD6NZ5l3iELZZD", 205: "cus_edwGvnMyU2aEqr", // Trial simulation
}

func TestDemoCounts(t *testing.T) {
	e := NewDemo()
	want := map[string]int{
		"account": 5, "product": 40, "price": 60, "customer": 250, "card": 28, "payment_method": 33,
		"payment_intent": 80, "charge": 68, "refund": 20, "invoice": 67, "invoiceitem": 43, "quote": 10,
		"subscription": 41, "test_helpers.test_clock": 2,
	}
	for name, n := range want {
		if got := e.Count(name); got != n {
			t.Errorf("%d %s objects, want %d", got, name, n)
		}
	}
	status := func(name string) map[string]int {
		m := map[string]int{}
		for _, id := range e.IDs(name) {
			m[e.Get(name, id)["status"].(string)]++
		}
		return m
	}
	for name, statuses := range map[string][]string{
		"payment_intent": {"succeeded", "requires_capture", "requires_confirmation", "requires_payment_method", "canceled"},
		"invoice":        {"draft", "open", "paid", "void", "uncollectible"},
		"quote":          {"draft", "open", "accepted", "canceled"},
		"subscription":   {"active", "trialing", "incomplete", "past_due", "paused", "canceled", "incomplete_expired"},
		"charge":         {"succeeded", "failed"},
	} {
		got := status(name)
		for _, s := range statuses {
			if got[s] == 0 {
				t.Errorf("no %s with status %s (%v)", name, s, got)
			}
		}
	}
	exact := map[string]map[string]int{
		"payment_intent": {"succeeded": 55, "requires_capture": 4, "requires_confirmation": 4, "requires_payment_method": 8, "canceled": 9},
		"subscription":   {"active": 20, "trialing": 6, "incomplete": 4, "past_due": 1, "paused": 1, "incomplete_expired": 1, "canceled": 8},
		"quote":          {"draft": 2, "open": 3, "accepted": 3, "canceled": 2},
		"invoice":        {"draft": 6, "open": 8, "paid": 45, "void": 4, "uncollectible": 4},
	}
	for name, want := range exact {
		if got := status(name); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s statuses %v, want %v", name, got, want)
		}
	}
	inactive := 0
	for _, id := range e.IDs("price") {
		if e.Get("price", id)["active"] == false {
			inactive++
		}
	}
	if inactive != 8 {
		t.Errorf("%d inactive prices, want 8", inactive)
	}
}

func TestDemoCustomers(t *testing.T) {
	e := NewDemo()
	var noEmail, noName, mixedCase, withMetadata, clocked, multiCard int
	cards := map[string]int{}
	for _, id := range e.IDs("card") {
		cards[e.Get("card", id)["customer"].(string)]++
	}
	for _, id := range e.IDs("customer") {
		c := e.Get("customer", id)
		email, _ := c["email"].(string)
		switch {
		case c["email"] == nil:
			noEmail++
		case email != strings.ToLower(email):
			mixedCase++
		}
		if c["name"] == nil {
			noName++
		}
		if len(c["metadata"].(map[string]any)) > 0 {
			withMetadata++
		}
		if c["test_clock"] != nil {
			clocked++
		}
		if cards[id] >= 2 {
			multiCard++
		}
		if cards[id] > 0 && c["default_source"] == nil {
			t.Errorf("customer %s has cards but no default source", id)
		}
	}
	if noEmail != 10 || noName != 8 || mixedCase < 20 || withMetadata < 80 || clocked != 4 || multiCard != 6 || len(cards) != 20 {
		t.Errorf("no email %d, no name %d, mixed case %d, metadata %d, test clock %d, 2+ cards %d, with cards %d",
			noEmail, noName, mixedCase, withMetadata, clocked, multiCard, len(cards))
	}
}

// TestDemoTimestamps: all created times fall in the demo range and no two
// objects of a type share a second. (Cards have no created time.)
func TestDemoTimestamps(t *testing.T) {
	e := NewDemo()
	for name := range spec().Objects {
		if name == "card" {
			continue
		}
		seen := map[int64]string{}
		for _, id := range e.IDs(name) {
			o := e.Get(name, id)
			ts := createdOf(o)
			if ts < demoStart || ts > demoEnd {
				t.Errorf("%s %s created %d, outside the demo range", name, id, ts)
			}
			if prev, dup := seen[ts]; dup {
				t.Errorf("%s %s and %s share created %d", name, id, prev, ts)
			}
			seen[ts] = id
		}
	}
}

// TestDemoReferences: every id a demo object refers to names an existing
// object, and the two ends of each relation agree.
func TestDemoReferences(t *testing.T) {
	e := NewDemo()
	exists := func(name, id string) bool { return e.Get(name, id) != nil }
	check := func(name, field, target string, optional bool) {
		for _, id := range e.IDs(name) {
			ref, _ := e.Get(name, id)[field].(string)
			if ref == "" && optional {
				continue
			}
			if !exists(target, ref) {
				t.Errorf("%s %s: %s %q does not exist", name, id, field, ref)
			}
		}
	}
	check("card", "customer", "customer", false)
	check("payment_method", "customer", "customer", true) // 3 are unattached (TestDemoFidelity)
	check("payment_intent", "customer", "customer", false)
	check("payment_intent", "latest_charge", "charge", true)
	check("charge", "payment_intent", "payment_intent", false)
	check("refund", "charge", "charge", false)
	check("price", "product", "product", false)
	check("product", "default_price", "price", true)
	check("invoice", "customer", "customer", false)
	check("invoiceitem", "customer", "customer", false)
	check("invoiceitem", "invoice", "invoice", true)
	check("subscription", "customer", "customer", false)
	check("subscription", "latest_invoice", "invoice", false)
	check("quote", "customer", "customer", false)
	check("quote", "invoice", "invoice", true)
	for _, name := range []string{"customer", "invoice", "invoiceitem", "quote", "subscription"} {
		check(name, "test_clock", "test_helpers.test_clock", true)
	}
	for _, name := range []string{"invoice", "invoiceitem", "quote", "subscription"} {
		for _, id := range e.IDs(name) {
			o := e.Get(name, id)
			if cust := e.Get("customer", o["customer"].(string)); o["test_clock"] != cust["test_clock"] {
				t.Errorf("%s %s: test_clock %v, its customer's %v", name, id, o["test_clock"], cust["test_clock"])
			}
		}
	}
	for _, id := range e.IDs("charge") {
		ch := e.Get("charge", id)
		pi := e.Get("payment_intent", ch["payment_intent"].(string))
		if pi["customer"] != ch["customer"] {
			t.Errorf("charge %s customer %v, its payment intent's %v", id, ch["customer"], pi["customer"])
		}
	}
	for _, id := range e.IDs("refund") {
		re := e.Get("refund", id)
		ch := e.Get("charge", re["charge"].(string))
		if n, _ := asInt(ch["amount_refunded"]); n < intOf(re, "amount") {
			t.Errorf("refund %s of %v exceeds its charge's amount_refunded %d", id, re["amount"], n)
		}
	}
	for _, id := range e.IDs("quote") {
		q := e.Get("quote", id)
		if (q["status"] == "accepted") != (q["invoice"] != nil) {
			t.Errorf("quote %s: status %v, invoice %v", id, q["status"], q["invoice"])
		}
	}
	for _, id := range e.IDs("invoice") {
		inv := e.Get("invoice", id)
		var sum int64
		for _, l := range inv["lines"].(map[string]any)["data"].([]any) {
			sum += intOf(l.(map[string]any), "amount")
		}
		if sum != intOf(inv, "total") {
			t.Errorf("invoice %s: lines sum to %d, total %d", id, sum, intOf(inv, "total"))
		}
	}
}
