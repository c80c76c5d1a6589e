package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NewDemo returns an Emulator holding a deterministic demo account: the
// same ids and values on every run (for the default seed). The data is
// produced by replaying API calls against the emulator itself, each at its
// own instant between 2024-01-01 and 2025-06-30 UTC, so every object has
// exactly the shape and relations a client creating it through the API
// would get, and no two objects of a type share a created second.
//
// Contents:
//
//   - 5 accounts (standard, express, custom; US, GB, DE, FR, CA), 3 of
//     them fully onboarded.
//   - 40 products: 10 subscription plans and add-ons, 30 one-time goods and
//     services (the physical ones shippable, the services with a url);
//     4 archived (active=false).
//   - 60 prices: a monthly and a yearly price per plan (lookup keys such as
//     "pro_monthly"), a USD price per good and EUR prices for 10 goods;
//     8 inactive (the 4 archived products' prices, 2 yearly, 2 EUR).
//   - 250 customers. The oldest is Alice Smith, Alice.Smith@Example.com;
//     every ninth email is mixed-case; 10 have no email, 8 no name, a third
//     no phone; about 40% carry metadata such as {"tier": "gold"}; every
//     fourth has an address; 4 are on a test clock (below), so default
//     lists hide them and their invoices, quotes and subscriptions.
//   - 2 test clocks (status ready), listed newest first: "Trial
//     simulation" (clock_SXyBq6823cCNhtlObq7OB9Od, created 2024-09-01,
//     frozen at 2024-10-01) with customers 150 and 205 (by age, oldest 0),
//     and "Renewal simulation" (clock_xVAUlckUZy9uklu3GQBNcHOX, created
//     2024-03-01, frozen at 2024-04-01) with customers 40 and 95.
//     GET /v1/customers?test_clock=<id> lists a clock's 2 customers.
//   - 28 cards (/v1/customers/{id}/sources) on the 20 oldest customers; 6
//     have two cards or more.
//   - 30 card payment methods, one per customer 20–49 (by age), each the
//     customer's invoice_settings.default_payment_method; those of
//     customers 48 and 49 decline. 3 more are attached to no customer
//     (billing name "Unattached 1" to 3), for AttachPaymentMethodToCustomer.
//   - 80 payment intents on those customers: 55 succeeded (5 after a
//     partial capture), 4 requires_capture, 4 requires_confirmation, 8
//     requires_payment_method (4 after a decline, with last_payment_error),
//     9 canceled; 68 charges (64 succeeded, 4 failed); 20 refunds: 10
//     requested (6 full, 4 partial) and, as Stripe makes them, 10 of the
//     amounts authorized but not captured (the rest of a partial capture,
//     a canceled authorization), so every charge's amount_refunded is the
//     sum of its refunds.
//   - 67 invoices: 24 one-off invoices on customers 50–73, 4 each draft,
//     open, paid, paid out of band, void and uncollectible (6 with
//     collection_method send_invoice); 41 first invoices of subscriptions
//     (37 paid, 4 open); 2 drafts from accepted quotes.
//   - 43 invoice items: 36 on the one-off invoices, 2 from quotes, 5 pending.
//   - 41 subscriptions: 20 active, 6 trialing, 4 incomplete, 1 past_due,
//     1 paused, 1 incomplete_expired, 8 canceled; one from a quote.
//   - 10 quotes: 2 draft, 3 open, 3 accepted, 2 canceled.
//
// The emulator clock (WithClock) only affects requests made after NewDemo.
func NewDemo(opts ...Option) *Emulator {
	e := New(opts...)
	b := &demoBuilder{e: e, v: newDemoVocabulary(), rng: rand.New(rand.NewPCG(7, 11)), used: map[int64]bool{}}
	b.build()
	e.st.j.take() // the demo's history records no events (see events.go)
	return e
}

// The demo's time range: 2024-01-01T00:00:00Z to 2025-06-30T23:59:59Z.
const (
	demoStart = 1704067200
	demoEnd   = 1751327999
)

// demoBuilder replays the API calls that make up the demo account.
type demoBuilder struct {
	e    *Emulator
	v    demoVocabulary
	rng  *rand.Rand
	used map[int64]bool // seconds already given to a call
}

const (
	hour = int64(3600)
	day  = 24 * hour
)

// slot reserves a second at or after t (before it, near the end of the
// range) that no other call has used.
func (b *demoBuilder) slot(t int64) int64 {
	t = min(max(t, demoStart), demoEnd)
	for s := t; s <= demoEnd; s++ {
		if !b.used[s] {
			b.used[s] = true
			return s
		}
	}
	for s := t; ; s-- {
		if !b.used[s] {
			b.used[s] = true
			return s
		}
	}
}

// after returns a time between lo and hi seconds after t, compressing the
// interval so that it ends by demoEnd.
func (b *demoBuilder) after(t, lo, hi int64) int64 {
	room := demoEnd - t
	if room <= 0 {
		return demoEnd
	}
	hi = min(hi, room)
	lo = min(lo, hi)
	return t + lo + b.rng.Int64N(hi-lo+1)
}

// call performs one API request at second t and returns the response
// object or the API error.
func (b *demoBuilder) call(t int64, method, path string, form url.Values) (object, *apiError) {
	r := &http.Request{Method: method, URL: &url.URL{Path: path}}
	tx := &tx{s: b.e.st, reg: b.e.reg, now: time.Unix(b.slot(t), 0).UTC()}
	out, err := b.e.dispatch(tx, r, form)
	if err != nil {
		return nil, err
	}
	return out.(object), nil
}

// must is call for requests that cannot fail; a failure is a bug in the
// demo script or the emulator, which the demo tests catch.
func (b *demoBuilder) must(t int64, method, path string, form url.Values) object {
	o, err := b.call(t, method, path, form)
	if err != nil {
		panic(fmt.Sprintf("emulator: demo %s %s %v: %s", method, path, form, err.message))
	}
	return o
}

// patch sets fields Stripe changes on its own schedule (a subscription
// going past_due), which no API call can reach.
func (b *demoBuilder) patch(objectName, id string, fields object) {
	o := b.e.st.getObj(objectName, id)
	for k, v := range fields {
		o[k] = v
	}
}

// vals builds a form from key, value pairs.
func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// demoCustomer is what the rest of the script needs to know of a customer.
type demoCustomer struct {
	id      string
	created int64
	pm      string // default payment method, if any
}

func (b *demoBuilder) build() {
	b.accounts()
	plans, goods := b.catalog()
	custs := b.customers()
	b.cards(custs)
	b.paymentMethods(custs)
	b.paymentIntents(custs)
	b.invoices(custs)
	b.subscriptions(custs, plans)
	b.quotes(custs, plans, goods)
	b.unattachedPaymentMethods()
	// The demo history is fully indexed for search, whatever the clock.
	for _, t := range b.e.st.tables {
		for _, r := range t.order {
			r.touched = time.Time{}
		}
	}
}

func (b *demoBuilder) accounts() {
	specs := []struct{ typ, country, name string }{
		{"standard", "US", "Acme Books"}, {"express", "GB", "Globex Ltd"}, {"custom", "DE", "Initech GmbH"},
		{"standard", "FR", "Hooli SARL"}, {"express", "CA", "Umbrella Inc"},
	}
	for i, s := range specs {
		t := b.after(demoStart, int64(i)*20*day, int64(i)*20*day+10*day)
		slug := strings.ToLower(strings.Fields(s.name)[0])
		acct := b.must(t, "POST", "/v1/accounts", vals("type", s.typ, "country", s.country,
			"email", "owner@"+slug+".test", "business_profile[name]", s.name, "business_profile[url]", "https://"+slug+".test",
			"capabilities[card_payments][requested]", "true", "capabilities[transfers][requested]", "true",
			"metadata[segment]", []string{"marketplace", "saas"}[i%2]))
		if i < 3 {
			b.patch("account", str(acct, "id"), object{"charges_enabled": true, "payouts_enabled": true, "details_submitted": true,
				"capabilities": object{"card_payments": "active", "transfers": "active"}})
		}
	}
}

// catalog creates products and prices and returns the active monthly plan
// prices and the active one-time good prices.
func (b *demoBuilder) catalog() (plans, goods []string) {
	t := demoStart + 2*day
	for i, p := range b.v.plans {
		t = b.after(t, hour, 3*day)
		prod := b.must(t, "POST", "/v1/products", vals("name", p.name, "description", p.name+" subscription",
			"metadata[category]", "subscription", "unit_label", "seat"))
		id := str(prod, "id")
		monthly := b.must(b.after(t, hour, day), "POST", "/v1/prices", vals("product", id, "currency", "usd",
			"unit_amount", itoa(p.amount), "recurring[interval]", "month", "lookup_key", p.key+"_monthly", "nickname", p.name+" monthly"))
		b.must(b.after(t, day, 2*day), "POST", "/v1/products/"+id, vals("default_price", str(monthly, "id")))
		yearly := b.must(b.after(t, 2*day, 3*day), "POST", "/v1/prices", vals("product", id, "currency", "usd",
			"unit_amount", itoa(p.amount*10), "recurring[interval]", "year", "lookup_key", p.key+"_yearly", "nickname", p.name+" yearly"))
		plans = append(plans, str(monthly, "id"))
		if i < 2 { // two yearly prices were retired
			b.must(b.after(t, 30*day, 40*day), "POST", "/v1/prices/"+str(yearly, "id"), vals("active", "false"))
		}
	}
	for i, g := range b.v.goods {
		t = b.after(t, hour, 4*day)
		f := vals("name", g.name, "shippable", strconv.FormatBool(g.shippable), "metadata[category]", "merch")
		if !g.shippable {
			f.Set("metadata[category]", "service")
			f.Set("url", "https://shop.example.com/"+strings.ToLower(strings.ReplaceAll(g.name, " ", "-")))
		}
		if i%3 != 2 {
			f.Set("description", "The "+strings.ToLower(g.name))
		}
		prod := b.must(t, "POST", "/v1/products", f)
		id := str(prod, "id")
		price := b.must(b.after(t, hour, day), "POST", "/v1/prices", vals("product", id, "currency", "usd", "unit_amount", itoa(g.amount)))
		archived := i >= len(b.v.goods)-4
		if i < 10 {
			eur := b.must(b.after(t, day, 2*day), "POST", "/v1/prices", vals("product", id, "currency", "eur", "unit_amount", itoa(g.amount*92/100)))
			if i >= 8 {
				b.must(b.after(t, 60*day, 90*day), "POST", "/v1/prices/"+str(eur, "id"), vals("active", "false"))
			}
		}
		if archived {
			b.must(b.after(t, 90*day, 120*day), "POST", "/v1/prices/"+str(price, "id"), vals("active", "false"))
			b.must(b.after(t, 120*day, 150*day), "POST", "/v1/products/"+id, vals("active", "false"))
			continue
		}
		goods = append(goods, str(price, "id"))
	}
	return plans, goods
}

// demoClocks are the demo's test clocks, with the customers (by age) on
// each. The times are fixed: 2024-03-01 and 2024-09-01 (created), 2024-04-01
// and 2024-10-01 (frozen_time).
var demoClocks = []struct {
	name            string
	created, frozen int64
	customers       []int
}{
	{"Renewal simulation", demoStart + 60*day, demoStart + 91*day, []int{40, 95}},
	{"Trial simulation", demoStart + 244*day, demoStart + 274*day, []int{150, 205}},
}

// testClocks creates the demo's test clocks and returns the clock of each
// customer on one, by the customer's index.
func (b *demoBuilder) testClocks() map[int]string {
	onClock := map[int]string{}
	for _, c := range demoClocks {
		clock := b.must(c.created, "POST", "/v1/test_helpers/test_clocks",
			vals("name", c.name, "frozen_time", itoa(c.frozen)))
		for _, i := range c.customers {
			onClock[i] = str(clock, "id")
		}
	}
	return onClock
}

func (b *demoBuilder) customers() []demoCustomer {
	const n = 250
	// Sorted, spread creation times: customer i is older than customer i+1.
	span := (demoEnd - 45*day) - (demoStart + 7*day)
	custs := make([]demoCustomer, n)
	var onClock map[int]string
	for i := range custs {
		t := demoStart + 7*day + span*int64(i)/n + b.rng.Int64N(span/n/2)
		first := b.v.firstNames[i%len(b.v.firstNames)]
		last := b.v.lastNames[(7*i+i/len(b.v.firstNames))%len(b.v.lastNames)]
		email := strings.ToLower(first + "." + last + "@" + b.v.domains[i%len(b.v.domains)])
		if i%9 == 0 {
			email = first + "." + last + "@" + strings.ToUpper(b.v.domains[i%len(b.v.domains)][:1]) + b.v.domains[i%len(b.v.domains)][1:]
		}
		f := vals("name", first+" "+last)
		if i%25 != 13 {
			f.Set("email", email)
		}
		if i%31 == 17 {
			f.Del("name")
		}
		if i%3 != 0 {
			f.Set("phone", fmt.Sprintf("+1555%07d", 1000+i*37))
		}
		if i%5 < 2 {
			f.Set("metadata[tier]", []string{"gold", "silver", "bronze"}[i%3])
		}
		if i%7 == 0 {
			f.Set("metadata[signup_source]", []string{"web", "sales", "partner"}[i%3])
		}
		if i%4 == 0 {
			c := b.v.cities[i%len(b.v.cities)]
			f.Set("address[city]", c.city)
			f.Set("address[country]", c.country)
			f.Set("address[line1]", fmt.Sprintf("%d Market Street", 10+i))
			f.Set("address[postal_code]", fmt.Sprintf("%05d", 10000+i*13))
		}
		if i%10 == 5 {
			f.Set("description", "Imported from legacy billing")
		}
		if i == demoClocks[0].customers[0] {
			// Created just before the first customer on a clock (at
			// their own times), so that the ids of the older customers
			// do not depend on the clocks.
			onClock = b.testClocks()
		}
		if clock, ok := onClock[i]; ok {
			f.Set("test_clock", clock)
		}
		c := b.must(t, "POST", "/v1/customers", f)
		custs[i] = demoCustomer{id: str(c, "id"), created: intOf(c, "created")}
	}
	return custs
}

func (b *demoBuilder) cards(custs []demoCustomer) {
	extra := []string{"tok_mastercard", "tok_amex"}
	for i := 0; i < 20; i++ {
		c := custs[i]
		t := b.after(c.created, hour, 3*day)
		b.must(t, "POST", "/v1/customers/"+c.id+"/sources", vals("source", []string{"tok_visa", "tok_visa_debit", "tok_discover"}[i%3]))
		for k := 0; (i < 6 && k < 1) || (i < 2 && k < 2); k++ {
			t = b.after(t, day, 30*day)
			b.must(t, "POST", "/v1/customers/"+c.id+"/sources", vals("source", extra[k], "metadata[label]", "backup"))
		}
	}
}

func (b *demoBuilder) paymentMethods(custs []demoCustomer) {
	tokens := []string{"tok_visa", "tok_mastercard", "tok_amex", "tok_visa_debit", "tok_jcb"}
	for i := 20; i < 50; i++ {
		c := &custs[i]
		tok := tokens[i%len(tokens)]
		if i >= 48 {
			tok = "tok_chargeDeclined"
		}
		t := b.after(c.created, hour, 2*day)
		pm := b.must(t, "POST", "/v1/payment_methods", vals("type", "card", "card[token]", tok, "customer", c.id,
			"billing_details[name]", fmt.Sprintf("Cardholder %d", i)))
		c.pm = str(pm, "id")
		b.must(b.after(t, 1, hour), "POST", "/v1/customers/"+c.id, vals("invoice_settings[default_payment_method]", c.pm))
	}
}

// unattachedPaymentMethods adds payment methods attached to no customer,
// so that AttachPaymentMethodToCustomer (the connector contract's example)
// has something to attach. They are made last, so that no other demo
// object's id or time depends on them.
func (b *demoBuilder) unattachedPaymentMethods() {
	t := int64(demoEnd - 30*day)
	for i, tok := range []string{"tok_visa", "tok_mastercard", "tok_amex"} {
		t = b.after(t, hour, day)
		b.must(t, "POST", "/v1/payment_methods", vals("type", "card", "card[token]", tok,
			"billing_details[name]", fmt.Sprintf("Unattached %d", i+1)))
	}
}

func (b *demoBuilder) paymentIntents(custs []demoCustomer) {
	var refundable []string
	for k := 0; k < 80; k++ {
		c := custs[20+k%30]
		t := b.after(c.created, 3*day, 400*day)
		amount := int64(500 + b.rng.IntN(200)*250)
		f := vals("amount", itoa(amount), "currency", []string{"usd", "usd", "usd", "eur"}[k%4], "customer", c.id,
			"description", fmt.Sprintf("Order #%d", 1001+k))
		if k%3 == 0 {
			f.Set("metadata[order_id]", strconv.Itoa(1001+k))
		}
		declining := k%30 >= 28 // customers 48 and 49
		switch kind := k % 16; {
		case kind <= 9 || declining: // succeeded, or declined
			f.Set("payment_method", c.pm)
			f.Set("confirm", "true")
		case kind == 10 || kind == 14 || kind == 15: // authorized, then left, canceled or captured
			f.Set("payment_method", c.pm)
			f.Set("capture_method", "manual")
			f.Set("confirm", "true")
		case kind == 12: // requires_confirmation
			f.Set("payment_method", c.pm)
		}
		pi, err := b.call(t, "POST", "/v1/payment_intents", f)
		if err != nil {
			continue // a declined card: the intent exists with last_payment_error
		}
		id := str(pi, "id")
		switch kind := k % 16; {
		case kind == 13:
			b.must(b.after(t, hour, 5*day), "POST", "/v1/payment_intents/"+id+"/cancel", vals("cancellation_reason", "abandoned"))
		case kind == 14:
			b.must(b.after(t, hour, 5*day), "POST", "/v1/payment_intents/"+id+"/cancel", vals("cancellation_reason", "requested_by_customer"))
		case kind == 15:
			b.must(b.after(t, hour, 5*day), "POST", "/v1/payment_intents/"+id+"/capture", vals("amount_to_capture", itoa(amount/2)))
		case kind <= 9:
			refundable = append(refundable, id)
		}
	}
	for i, id := range refundable[:10] {
		pi := b.e.st.getObj("payment_intent", id)
		t := b.after(intOf(pi, "created"), day, 20*day)
		f := vals("payment_intent", id)
		if i%5 == 0 {
			f = vals("charge", str(pi, "latest_charge"))
		}
		if i >= 6 {
			f.Set("amount", itoa(intOf(pi, "amount")/2))
		}
		if i%2 == 0 {
			f.Set("reason", "requested_by_customer")
		}
		b.must(t, "POST", "/v1/refunds", f)
	}
}

func (b *demoBuilder) invoices(custs []demoCustomer) {
	for j := 0; j < 24; j++ {
		c := custs[50+j]
		t := b.after(c.created, day, 60*day)
		for k := 0; k <= j%2; k++ {
			t = b.after(t, hour, day)
			b.must(t, "POST", "/v1/invoiceitems", vals("customer", c.id, "currency", "usd",
				"amount", itoa(int64(1000+b.rng.IntN(40)*500)), "description", []string{"Consulting", "Setup fee", "Hardware", "Support hours"}[(j+k)%4]))
		}
		f := vals("customer", c.id, "pending_invoice_items_behavior", "include", "description", fmt.Sprintf("Invoice for project %d", 100+j))
		if j%4 == 1 {
			f.Set("collection_method", "send_invoice")
			f.Set("days_until_due", "30")
		}
		if j%4 == 2 {
			f.Set("metadata[project]", fmt.Sprintf("P-%d", 100+j))
		}
		t = b.after(t, hour, day)
		inv := str(b.must(t, "POST", "/v1/invoices", f), "id")
		status := j % 6
		if status == 0 {
			continue // draft
		}
		t = b.after(t, hour, 3*day)
		b.must(t, "POST", "/v1/invoices/"+inv+"/finalize", nil)
		t = b.after(t, day, 20*day)
		switch status {
		case 2:
			b.must(t, "POST", "/v1/invoices/"+inv+"/pay", nil)
		case 3:
			b.must(t, "POST", "/v1/invoices/"+inv+"/pay", vals("paid_out_of_band", "true"))
		case 4:
			b.must(t, "POST", "/v1/invoices/"+inv+"/void", nil)
		case 5:
			b.must(t, "POST", "/v1/invoices/"+inv+"/mark_uncollectible", nil)
		}
	}
	for i := 74; i < 79; i++ {
		c := custs[i]
		b.must(b.after(c.created, day, 30*day), "POST", "/v1/invoiceitems", vals("customer", c.id, "currency", "usd",
			"amount", "4200", "description", "Pending usage charge"))
	}
}

func (b *demoBuilder) subscriptions(custs []demoCustomer, plans []string) {
	for s := 0; s < 40; s++ {
		var c demoCustomer
		f := vals("items[0][price]", plans[s%len(plans)], "items[0][quantity]", strconv.Itoa(1+s%5))
		switch {
		case s < 28:
			c = custs[20+s]
		case s < 31:
			c = custs[[]int{95, 150, 205}[s-28]]
		default:
			c = custs[100+s-31]
			f.Set("trial_period_days", "14")
		}
		f.Set("customer", c.id)
		if s%4 == 1 {
			f.Set("metadata[plan_source]", []string{"web", "sales"}[s/4%2])
		}
		if s == 9 {
			f.Set("cancel_at_period_end", "true")
		}
		t := b.after(c.created, 2*day, 90*day)
		sub := b.must(t, "POST", "/v1/subscriptions", f)
		id := str(sub, "id")
		switch {
		case s%10 == 3 || s%10 == 7:
			b.must(b.after(t, 30*day, 120*day), "DELETE", "/v1/subscriptions/"+id, nil)
		case s == 5:
			b.patch("subscription", id, object{"status": "past_due"})
		case s == 15:
			b.patch("subscription", id, object{"status": "paused", "pause_collection": object{"behavior": "void", "resumes_at": nil}})
		case s == 35:
			b.patch("subscription", id, object{"status": "incomplete_expired", "ended_at": intOf(sub, "created") + day})
		}
	}
}

func (b *demoBuilder) quotes(custs []demoCustomer, plans, goods []string) {
	for q := 0; q < 10; q++ {
		c := custs[110+q]
		if q == 1 {
			c = custs[150] // a test-clock customer
		}
		price := goods[q%len(goods)]
		if q == 8 {
			price = plans[2]
		}
		t := b.after(c.created, day, 60*day)
		f := vals("customer", c.id, "line_items[0][price]", price, "line_items[0][quantity]", strconv.Itoa(1+q%3),
			"description", fmt.Sprintf("Proposal %d", 500+q))
		id := str(b.must(t, "POST", "/v1/quotes", f), "id")
		if q == 2 {
			b.must(b.after(t, hour, day), "POST", "/v1/quotes/"+id+"/cancel", nil)
		}
		if q < 3 {
			continue
		}
		t = b.after(t, hour, 2*day)
		b.must(t, "POST", "/v1/quotes/"+id+"/finalize", nil)
		switch {
		case q >= 6 && q <= 8:
			b.must(b.after(t, day, 10*day), "POST", "/v1/quotes/"+id+"/accept", nil)
		case q == 9:
			b.must(b.after(t, day, 10*day), "POST", "/v1/quotes/"+id+"/cancel", nil)
		}
	}
}
