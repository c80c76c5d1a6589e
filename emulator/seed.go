package emulator

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A Seeding asks Seed for many objects at once, for benchmarks and tests
// at scale: customers, charges on them and paid invoices of them, whose
// created times spread evenly (with jitter) over [From, To).
type Seeding struct {
	Customers, Charges, Invoices int
	// From and To bound the created times; the default is the year before
	// the emulator clock's now.
	From, To time.Time
	// Seed makes the ids, times and values reproducible; 0 means 1.
	Seed uint64
}

// Seed adds the objects of s to the store, and returns their ids by type
// ("customer", "charge", "invoice"), newest first as lists return them.
//
// The objects are not stored as maps: each is a few words (id, created
// time, number), and its object is built from a prototype whenever a
// request reads it, so a million objects take about 150 MB rather than
// gigabytes. Reading is the same as for any object (lists, retrieves,
// search, expansion); an object that is updated or deleted, or read by a
// request that may change it, becomes an ordinary stored object. The
// prototypes come from real API calls on a scratch emulator, so the
// objects have the shape the API gives; ids they reference other than
// their customer (a charge's payment method, say) do not exist here.
func (e *Emulator) Seed(s Seeding) (map[string][]string, error) {
	if s.Customers < 0 || s.Charges < 0 || s.Invoices < 0 {
		return nil, fmt.Errorf("emulator: seed: negative count")
	}
	if s.Customers+s.Charges+s.Invoices == 0 {
		return map[string][]string{}, nil
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.To.IsZero() {
		s.To = e.now()
	}
	if s.From.IsZero() {
		s.From = s.To.AddDate(-1, 0, 0)
	}
	if !s.From.Before(s.To) {
		return nil, fmt.Errorf("emulator: seed: From %v is not before To %v", s.From, s.To)
	}
	protos, err := prototypes(s.From)
	if err != nil {
		return nil, err
	}
	ids := map[string][]string{}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	var customers *seeding
	for _, kind := range []struct {
		name string
		n    int
	}{{"customer", s.Customers}, {"charge", s.Charges}, {"invoice", s.Invoices}} {
		if kind.n == 0 {
			continue
		}
		g := &seeding{object: kind.name, proto: protos[kind.name], seed: s.Seed, customers: customers}
		ids[kind.name] = e.st.seed(e.reg.byObject[kind.name], g, kind.n, s.From.Unix(), s.To.Unix(), rng)
		if kind.name == "customer" {
			customers = g
		}
	}
	return ids, nil
}

// seed stores n lazy records of res built by g, and returns their ids
// newest first.
func (s *store) seed(res *resource, g *seeding, n int, from, to int64, rng *rand.Rand) []string {
	t := s.table(res.object)
	g.ids = make([]string, n)
	step := float64(to-from) / float64(n)
	sorted := len(t.order) == 0
	for i := range n {
		id := s.newID(res.object, res.prefix, res.idLen)
		// Evenly spread, jittered within each one's slot: created never
		// decreases with i, so the seeded records append in order.
		created := from + int64(float64(i)*step+rng.Float64()*step)
		s.seq++
		r := &record{id: id, created: min(created, to-1), seq: s.seq, gen: g, n: i}
		t.byID[id] = r
		t.order = append(t.order, r)
		g.ids[i] = id
	}
	if !sorted {
		slices.SortFunc(t.order, olderFirst)
	}
	out := slices.Clone(g.ids)
	slices.Reverse(out)
	return out
}

// A seeding builds the objects of one type of one Seed call.
type seeding struct {
	object    string
	proto     object
	seed      uint64
	ids       []string       // by number
	customers *seeding       // the customers charges and invoices belong to, if any
	byID      map[string]int // ids → number, built on first use
}

var seedFirst = []string{"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Karl", "Laura"}
var seedLast = []string{"Smith", "Jones", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Clark", "Lewis", "Young"}

// build returns a fresh object for r. Its values depend only on the seed
// and r's number, so a record reads the same every time.
func (g *seeding) build(r *record) object {
	o := cloneObject(g.proto)
	o["id"], o["created"] = r.id, r.created
	rng := rand.New(rand.NewPCG(g.seed, uint64(r.n)))
	switch g.object {
	case "customer":
		name := g.customerName(r.n)
		o["name"] = name
		o["email"] = strings.ToLower(strings.ReplaceAll(name, " ", ".")) + strconv.Itoa(r.n) + "@example.com"
	case "charge":
		amount := 100 * (5 + rng.Int64N(496)) // $5 to $500
		o["amount"], o["amount_captured"] = amount, amount
		o["customer"] = g.customerOf(rng)
		if bd, ok := o["billing_details"].(map[string]any); ok && o["customer"] != nil {
			bd["name"] = g.customers.customerName(g.customers.number(o["customer"]))
		}
	case "invoice":
		total := 100 * (10 + rng.Int64N(991)) // $10 to $1,000
		for _, k := range []string{"amount_due", "amount_paid", "subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"} {
			if _, ok := o[k]; ok {
				o[k] = total
			}
		}
		o["amount_remaining"] = int64(0)
		o["status"] = "paid"
		o["paid"] = true
		o["customer"] = g.customerOf(rng)
		if c, ok := o["customer"].(string); ok {
			n := g.customers.number(c)
			name := g.customers.customerName(n)
			o["customer_name"] = name
			o["customer_email"] = strings.ToLower(strings.ReplaceAll(name, " ", ".")) + strconv.Itoa(n) + "@example.com"
		}
		o["effective_at"], o["period_start"], o["period_end"] = r.created, r.created, r.created
		if lines, ok := o["lines"].(map[string]any); ok {
			lines["url"] = "/v1/invoices/" + r.id + "/lines"
		}
		o["number"] = nil
	}
	return o
}

func (g *seeding) customerName(n int) string {
	rng := rand.New(rand.NewPCG(g.seed, uint64(n)))
	return seedFirst[rng.IntN(len(seedFirst))] + " " + seedLast[rng.IntN(len(seedLast))]
}

// customerOf picks the owner of a charge or invoice, or nil without
// seeded customers.
func (g *seeding) customerOf(rng *rand.Rand) any {
	if g.customers == nil || len(g.customers.ids) == 0 {
		return nil
	}
	return g.customers.ids[rng.IntN(len(g.customers.ids))]
}

// number returns the number of a seeded customer, found by id. Ids are
// few per object built, so a linear search would be too slow only for the
// charges' billing name; index lazily.
func (g *seeding) number(id any) int {
	s, _ := id.(string)
	if g.byID == nil {
		g.byID = make(map[string]int, len(g.ids))
		for i, x := range g.ids {
			g.byID[x] = i
		}
	}
	return g.byID[s]
}

// prototypes makes one customer, charge and invoice through the API of a
// scratch emulator, at the given time.
func prototypes(at time.Time) (map[string]object, error) {
	scratch := New()
	tx := &tx{s: scratch.st, reg: scratch.reg, now: at}
	call := func(path string, form url.Values) (object, error) {
		out, err := scratch.dispatch(tx, &http.Request{Method: http.MethodPost, URL: &url.URL{Path: path}}, form)
		if err != nil {
			return nil, fmt.Errorf("emulator: seed prototype %s: %s", path, err.message)
		}
		return out.(object), nil
	}
	cus, err := call("/v1/customers", url.Values{"name": {"Proto Type"}})
	if err != nil {
		return nil, err
	}
	ch, err := call("/v1/charges", url.Values{"amount": {"1000"}, "currency": {"usd"}, "source": {"tok_visa"}})
	if err != nil {
		return nil, err
	}
	inv, err := call("/v1/invoices", url.Values{"customer": {str(cus, "id")}})
	if err != nil {
		return nil, err
	}
	// Drop references to the scratch objects the seeded ones will not have.
	ch["customer"], inv["customer"] = nil, nil
	return map[string]object{"customer": cloneObject(cus), "charge": cloneObject(ch), "invoice": cloneObject(inv)}, nil
}

// Each calls fn with every live object of a type, newest first, without
// storing seeded objects as maps: benchmarks use it to compute the answer
// a query should give. It holds the emulator's lock, so fn must not call
// the emulator; fn must not keep or change the object.
func (e *Emulator) Each(objectName string, fn func(obj map[string]any)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.st.listed(objectName) {
		fn(e.st.peek(r))
	}
}
