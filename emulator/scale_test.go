package emulator

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// refObj is what the reference model of a list knows of an object.
type refObj struct {
	id      string
	created int64
	put     int // order of insertion
	email   string
}

// TestListIndexMatchesReference checks the indexed list against a model
// that sorts the whole table, as the emulator used to: random created
// times with many ties, objects inserted out of created order, deletions,
// and every combination of created bounds, an email filter, limits and
// both cursors.
func TestListIndexMatchesReference(t *testing.T) {
	e := New()
	c := newClient(t, e)
	rng := rand.New(rand.NewPCG(3, 4))
	var objs []refObj
	for i := range 400 {
		o := refObj{id: fmt.Sprintf("cus_ref%04d", i), created: 1_700_000_000 + rng.Int64N(60), put: i,
			email: []string{"a@x.test", "b@x.test"}[rng.IntN(2)]}
		e.Put(map[string]any{"object": "customer", "id": o.id, "created": o.created, "email": o.email})
		objs = append(objs, o)
	}
	deleted := map[string]bool{}
	for _, i := range rng.Perm(len(objs))[:40] {
		c.del("/v1/customers/" + objs[i].id).mustOK(t)
		deleted[objs[i].id] = true
	}
	var live []refObj
	for _, o := range objs {
		if !deleted[o.id] {
			live = append(live, o)
		}
	}
	slices.SortFunc(live, func(a, b refObj) int { // newest first, later insertions first
		if c := cmp.Compare(b.created, a.created); c != 0 {
			return c
		}
		return cmp.Compare(b.put, a.put)
	})
	pos := map[string]int{} // every object's place in list order, deleted ones too
	all := slices.Clone(objs)
	slices.SortFunc(all, func(a, b refObj) int {
		if c := cmp.Compare(b.created, a.created); c != 0 {
			return c
		}
		return cmp.Compare(b.put, a.put)
	})
	for i, o := range all {
		pos[o.id] = i
	}

	for trial := range 300 {
		q := url.Values{}
		lo, hi := int64(0), int64(1<<62)
		switch rng.IntN(4) {
		case 1:
			lo = 1_700_000_000 + rng.Int64N(60)
			q.Set("created[gte]", strconv.FormatInt(lo, 10))
		case 2:
			hi = 1_700_000_000 + rng.Int64N(60)
			q.Set("created[lt]", strconv.FormatInt(hi, 10))
			hi--
		case 3:
			lo = 1_700_000_000 + rng.Int64N(60)
			hi = lo + rng.Int64N(20)
			q.Set("created[gt]", strconv.FormatInt(lo, 10))
			q.Set("created[lte]", strconv.FormatInt(hi, 10))
			lo++
		}
		email := ""
		if rng.IntN(3) == 0 {
			email = "a@x.test"
			q.Set("email", email)
		}
		limit := 1 + rng.IntN(30)
		q.Set("limit", strconv.Itoa(limit))
		var want []string
		for _, o := range live {
			if o.created >= lo && o.created <= hi && (email == "" || o.email == email) {
				want = append(want, o.id)
			}
		}
		cursorKind := rng.IntN(3)
		var cur string
		if cursorKind > 0 {
			cur = objs[rng.IntN(len(objs))].id // deleted ones too: a tombstone is still a cursor
		}
		var page []string
		hasMore := false
		switch cursorKind {
		case 0:
			page = want[:min(limit, len(want))]
			hasMore = len(want) > limit
		case 1:
			q.Set("starting_after", cur)
			var older []string
			for _, id := range want {
				if pos[id] > pos[cur] {
					older = append(older, id)
				}
			}
			page, hasMore = older[:min(limit, len(older))], len(older) > limit
		case 2:
			q.Set("ending_before", cur)
			var newer []string
			for _, id := range want {
				if pos[id] < pos[cur] {
					newer = append(newer, id)
				}
			}
			page, hasMore = newer[max(0, len(newer)-limit):], len(newer) > limit
		}
		body := c.get("/v1/customers", q).mustOK(t)
		if got := ids(body); !slices.Equal(got, page) || body["has_more"] != hasMore {
			t.Fatalf("trial %d, %s: got %v has_more=%v, want %v has_more=%v", trial, q.Encode(), got, body["has_more"], page, hasMore)
		}
	}
}

// TestSeed checks seeded objects: counts, order, created spread, their
// relations, determinism, and that they read and change like any object.
func TestSeed(t *testing.T) {
	from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seed := func() (*Emulator, map[string][]string) {
		e := New()
		got, err := e.Seed(Seeding{Customers: 1000, Charges: 700, Invoices: 300, From: from, To: to, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		return e, got
	}
	e, seeded := seed()
	c := newClient(t, e)
	for name, n := range map[string]int{"customer": 1000, "charge": 700, "invoice": 300} {
		if got := e.Count(name); got != n || len(seeded[name]) != n {
			t.Errorf("%s: Count %d, Seed returned %d ids, want %d", name, got, len(seeded[name]), n)
		}
	}
	listed := listAll(t, c, "/v1/customers", nil)
	if !slices.Equal(listed, seeded["customer"]) {
		t.Fatalf("listed %d customers, not the %d seeded ones newest first", len(listed), len(seeded["customer"]))
	}
	if !slices.Equal(e.IDs("customer"), listed) {
		t.Error("IDs differs from the list")
	}
	// Created times spread over the year: every month has some.
	months := map[time.Month]int{}
	customers := map[string]bool{}
	for _, id := range seeded["customer"] {
		customers[id] = true
	}
	var body map[string]any
	cursor := ""
	for {
		q := url.Values{"limit": {"100"}}
		if cursor != "" {
			q.Set("starting_after", cursor)
		}
		body = c.get("/v1/charges", q).mustOK(t)
		for _, d := range body["data"].([]any) {
			ch := d.(map[string]any)
			created := time.Unix(int64(ch["created"].(float64)), 0).UTC()
			if created.Before(from) || !created.Before(to) {
				t.Fatalf("charge created %v, outside the seeded year", created)
			}
			months[created.Month()]++
			if !customers[ch["customer"].(string)] || ch["amount"].(float64) < 500 || ch["status"] != "succeeded" {
				t.Fatalf("charge %v: customer, amount or status wrong", ch)
			}
			cursor = ch["id"].(string)
		}
		if body["has_more"] != true {
			break
		}
	}
	if len(months) != 12 {
		t.Errorf("charges in %d months, want 12: %v", len(months), months)
	}
	// A created range is answered from the index and holds what it should.
	mid := from.AddDate(0, 6, 0).Unix()
	march := listAll(t, c, "/v1/invoices", url.Values{"created[gte]": {strconv.FormatInt(mid, 10)}})
	n := 0
	for _, id := range seeded["invoice"] {
		if inv := e.Get("invoice", id); inv["created"].(int64) >= mid {
			n++
			if inv["status"] != "paid" || inv["total"] != inv["amount_paid"] || !customers[inv["customer"].(string)] {
				t.Fatalf("invoice %v", inv)
			}
		}
	}
	if len(march) != n || n == 0 {
		t.Errorf("created[gte] listed %d invoices, want %d", len(march), n)
	}

	// The same seed builds the same objects.
	e2, seeded2 := seed()
	id := seeded["customer"][123]
	a, _ := json.Marshal(e.Get("customer", id))
	b, _ := json.Marshal(e2.Get("customer", seeded2["customer"][123]))
	if string(a) != string(b) {
		t.Errorf("not deterministic:\n%s\n%s", a, b)
	}
	// A retrieve equals the listed object; an update sticks.
	cus := c.get("/v1/customers/"+id, nil).mustOK(t)
	if cus["email"] == nil || cus["name"] == nil || cus["object"] != "customer" {
		t.Errorf("seeded customer %v", cus)
	}
	c.post("/v1/customers/"+id, url.Values{"name": {"Renamed"}}).mustOK(t)
	page := c.get("/v1/customers", url.Values{"limit": {"100"}, "ending_before": {seeded["customer"][124]}}).mustOK(t)
	if d := page["data"].([]any); d[len(d)-1].(map[string]any)["name"] != "Renamed" {
		t.Errorf("the update is not listed: %v", d[len(d)-1])
	}
	c.del("/v1/customers/" + id).mustOK(t)
	if e.Count("customer") != 999 {
		t.Errorf("after a delete Count = %d", e.Count("customer"))
	}
}

func TestRateLimits(t *testing.T) {
	e := New()
	c := newClient(t, e)
	// Rates too slow to refill during the test: the buckets alone decide.
	e.SetLimits(Limits{GlobalRate: 0.001, Burst: 3})
	for range 3 {
		c.get("/v1/customers", nil).mustOK(t)
	}
	r := c.get("/v1/charges", nil)
	r.wantError(t, http.StatusTooManyRequests, "invalid_request_error", "rate_limit", "")
	if got := r.header.Get("Stripe-Rate-Limited-Reason"); got != "global-rate" {
		t.Errorf("reason %q, want global-rate", got)
	}

	e.SetLimits(Limits{GlobalRate: 0.001, EndpointRate: 0.001, Burst: 2})
	c.get("/v1/customers", nil).mustOK(t)
	c.get("/v1/customers/cus_nope", nil).wantError(t, 404, "invalid_request_error", "resource_missing", "id")
	r = c.get("/v1/customers", url.Values{"limit": {"3"}})
	r.wantError(t, http.StatusTooManyRequests, "invalid_request_error", "rate_limit", "")
	if got := r.header.Get("Stripe-Rate-Limited-Reason"); got != "global-rate" {
		t.Errorf("reason %q, want global-rate (the endpoint has a token left)", got)
	}

	e.SetLimits(Limits{EndpointRate: 0.001, Burst: 1})
	c.get("/v1/customers", nil).mustOK(t)
	r = c.get("/v1/customers", url.Values{"limit": {"5"}})
	r.wantError(t, http.StatusTooManyRequests, "invalid_request_error", "rate_limit", "")
	if got := r.header.Get("Stripe-Rate-Limited-Reason"); got != "endpoint-rate" {
		t.Errorf("reason %q, want endpoint-rate", got)
	}
	c.get("/v1/charges", nil).mustOK(t) // another endpoint has its own budget
	c.get("/v1/customers/cus_nope", nil).wantError(t, 404, "invalid_request_error", "", "")

	s := e.Stats()
	if s.Requests != 11 || s.RateLimited != 3 || s.ByReason["global-rate"] != 2 || s.ByReason["endpoint-rate"] != 1 {
		t.Errorf("stats %+v, want 11 requests, 3 limited (2 global, 1 endpoint)", s)
	}
	if s.ByEndpoint["GET /v1/customers"] != 7 || s.ByEndpoint["GET /v1/customers/{}"] != 2 {
		t.Errorf("by endpoint %v", s.ByEndpoint)
	}
	if got := e.Requests()[3]; got.Status != 429 || got.Limited != "global-rate" || got.Path != "/v1/charges" {
		t.Errorf("log entry %+v", got)
	}

	e.SetLimits(Limits{})
	for range 20 {
		c.get("/v1/customers", nil).mustOK(t)
	}
}

// TestLatencyHonorsCancel checks that a client giving up during the
// latency gets no answer and leaves no trace; the latency itself is a
// benchmark's business.
func TestLatencyHonorsCancel(t *testing.T) {
	e := New()
	e.SetLimits(Limits{Latency: time.Hour})
	if got := e.Limits().Latency; got != time.Hour {
		t.Fatalf("Limits().Latency = %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "/v1/customers", nil)
	req.Header.Set("Authorization", "Bearer sk_test_1")
	rec := newRecorder()
	e.ServeHTTP(rec, req)
	if len(e.Requests()) != 0 || rec.wrote {
		t.Errorf("a canceled request was answered (%d logged)", len(e.Requests()))
	}
}

type recorder struct {
	h     http.Header
	wrote bool
}

func newRecorder() *recorder                    { return &recorder{h: http.Header{}} }
func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { r.wrote = true; return len(b), nil }
func (r *recorder) WriteHeader(int)             { r.wrote = true }

// BenchmarkListPage reads pages deep in a table of 100,000 customers: the
// cost must not grow with the table.
func BenchmarkListPage(b *testing.B) {
	e := New()
	seeded, err := e.Seed(Seeding{Customers: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	ids := seeded["customer"]
	for _, bc := range []struct {
		name string
		q    func(i int) string
	}{
		{"starting_after", func(i int) string { return "limit=100&starting_after=" + ids[(i*7919)%len(ids)] }},
		{"created_range", func(i int) string {
			c := e.Get("customer", ids[(i*7919)%len(ids)])["created"].(int64)
			return fmt.Sprintf("limit=100&created[gte]=%d&created[lt]=%d", c-86400, c)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				req, _ := http.NewRequest("GET", "/v1/customers?"+bc.q(i), nil)
				req.Header.Set("Authorization", "Bearer sk_test_1")
				rec := newRecorder()
				e.ServeHTTP(rec, req)
			}
		})
	}
}
