package stripeapi

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// The limiter guarantees a lower bound on elapsed time, so these tests assert
// only lower bounds (never that something is fast), which load cannot break.

func TestRateLimitPacesRequests(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 20, 1 })
	start := time.Now()
	for range 5 {
		if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	// Burst 1 at 20/s: 4 waits of 50ms after the first request.
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("5 requests at 20/s with burst 1 took %v, want >= 200ms", el)
	}
	if st := c.Stats(); st.ThrottledWait < 150*time.Millisecond || st.Requests != 5 {
		t.Errorf("Stats = %+v, want ThrottledWait ~200ms and 5 requests", st)
	}
}

func TestSearchLimiter(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"data":[]}`) })

	// Search calls are paced by the search limiter...
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = -1, 10, 1 })
	start := time.Now()
	for range 3 {
		if _, err := c.Get(t.Context(), "/v1/customers/search", Params{{"query", "email:'a@b.c'"}}); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("3 search calls at 10/s took %v, want >= 200ms", el)
	}

	// ...and take a token from the global one too.
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = 10, -1, 1 })
	start = time.Now()
	it := c.Search(t.Context(), "/v1/customers/search", Params{{"query", "name:'x'"}})
	for it.Next() {
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("a search then a list at global 10/s took %v, want >= 100ms", el)
	}

	// Non-search calls leave the search limiter alone.
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.SearchRate, cfg.Burst = -1, 0.001, 2 })
	for range 3 {
		if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
			t.Fatal(err)
		}
	}
	if tok := c.search.Tokens(); tok < 1.99 {
		t.Errorf("search limiter has %.2f tokens after 3 non-search calls, want 2", tok)
	}
}

func TestRetriesTakeTokens(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			replyError(w, 500, "api_error", "")
			return
		}
		reply(w, 200, `{}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 10, 1 })
	start := time.Now()
	if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Errorf("a call with one retry at 10/s burst 1 took %v, want >= 100ms", el)
	}
	if st := c.Stats(); st.Requests != 2 || st.Retries != 1 || st.ThrottledWait < 50*time.Millisecond {
		t.Errorf("Stats = %+v, want 2 requests, 1 retry, ~100ms throttled", st)
	}
}

func TestLimiterWaitHonoursCancel(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = 0.01, 1 }) // a token per 100s
	if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "/v1/x", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Get returned after %v; the limiter wait ignored the deadline", el)
	}
	if srv.hits() != 1 {
		t.Errorf("%d hits, want 1", srv.hits())
	}
	if st := c.Stats(); st.ThrottledWait < 40*time.Millisecond {
		t.Errorf("ThrottledWait = %v, want the ~50ms spent waiting", st.ThrottledWait)
	}
}

// The limits themselves are asserted by counting and by the limiters'
// rates, not by wall time.

func TestEndpointOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v1/customers":                           "GET /v1/customers",
		"/v1/customers/cus_NffrFeUfNV2Hib":        "GET /v1/customers/{id}",
		"/v1/customers/cus_Q7hY2k/sources":        "GET /v1/customers/{id}/sources",
		"/v1/payment_intents/pi_3MtwBw/capture":   "GET /v1/payment_intents/{id}/capture",
		"/v1/test_helpers/test_clocks":            "GET /v1/test_helpers/test_clocks",
		"/v1/customers/x%2F..%2Fy":                "GET /v1/customers/{id}",
		"/v1/customers/search":                    "GET /v1/customers/search",
		"/v1/subscription_items/si_1/usage_recor": "GET /v1/subscription_items/{id}/usage_recor",
	} {
		if got := endpointOf(http.MethodGet, path); got != want {
			t.Errorf("endpointOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestEndpointRateIsPerEndpoint(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"data":[]}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 100, 25, 3 })
	if got := c.RateFor(http.MethodGet, "/v1/customers"); got != 25 {
		t.Errorf("RateFor(customers) = %v, want 25: the endpoint limit is the tighter", got)
	}
	// A call spends a token of its endpoint's bucket (which holds one: no
	// burst) and of the global bucket (burst 3), none of another endpoint's.
	// The rates are slow enough (1/s) that nothing refills meanwhile.
	c = newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 1, 1, 3 })
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	cus := c.endpoints.get("GET /v1/customers").lim
	inv := c.endpoints.get("GET /v1/invoices").lim
	now := time.Now()
	if tok := cus.TokensAt(now); tok > 0.5 {
		t.Errorf("customers endpoint has %.2f tokens after a call, want ~0", tok)
	}
	if tok := inv.TokensAt(now); tok < 0.99 || inv.Burst() != endpointBurst {
		t.Errorf("invoices endpoint has %.2f tokens of %d, want its full bucket of %d: other endpoints' calls must not spend it", tok, inv.Burst(), endpointBurst)
	}
	if tok := c.limiter.lim.TokensAt(now); tok < 1.5 || tok > 2.5 {
		t.Errorf("global limiter has %.2f tokens after a call with burst 3, want ~2: every call counts globally too", tok)
	}
	// Unlimited endpoints when the global rate is unlimited and no
	// endpoint rate is set: -1 means no client-side pacing.
	u := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate = -1 })
	if got := u.RateFor(http.MethodGet, "/v1/customers"); !math.IsInf(got, 1) {
		t.Errorf("RateFor with --rate -1 = %v, want +Inf", got)
	}
}

// TestEndpointPacingSurvivesBunching replays, on the endpoint limiter's own
// clock, a scan that resumes after a pause: 20 requests are granted as fast
// as the limiter allows, and the first five reach Stripe 40 ms late (a slow
// goroutine, a busy connection) while the rest arrive at once. Stripe's
// endpoint bucket (25/s, 5 deep, as the emulator's) must refuse none: a
// client bucket of 5 would send five at once, and those five plus the next
// would meet a bucket of five (one refused).
func TestEndpointPacingSurvivesBunching(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 100, 25, 5 })
	client := c.endpoints.get("GET /v1/customers").lim
	stripe := rate.NewLimiter(25, 5)
	t0 := time.Now().Add(time.Hour) // both buckets full: idle for an hour
	var arrivals []time.Time
	for i := range 20 {
		r := client.ReserveN(t0, 1)
		at := t0.Add(r.DelayFrom(t0))
		if i < 5 {
			at = at.Add(40 * time.Millisecond)
		}
		arrivals = append(arrivals, at)
	}
	slices.SortFunc(arrivals, func(a, b time.Time) int { return a.Compare(b) })
	refused := 0
	for _, at := range arrivals {
		if !stripe.AllowN(at, 1) {
			refused++
		}
	}
	if refused > 0 {
		t.Errorf("Stripe's endpoint bucket refused %d of 20 requests paced by the client", refused)
	}
}

func TestEndpointRate429SlowsOnlyThatEndpoint(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.URL.Path == "/v1/customers" && n == 1 {
			w.Header().Set("Stripe-Rate-Limited-Reason", "endpoint-rate")
			reply(w, 429, `{"error":{"type":"invalid_request_error","code":"rate_limit"}}`)
			return
		}
		reply(w, 200, `{"data":[]}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 100, 25, 100 })
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err) // the 429 is retried
	}
	if n := srv.hits(); n != 2 {
		t.Fatalf("%d requests, want the 429 and its retry", n)
	}
	cus := c.RateFor(http.MethodGet, "/v1/customers")
	inv := c.RateFor(http.MethodGet, "/v1/invoices")
	if cus >= 25 || cus < 25*throttleFactor*0.99 {
		t.Errorf("customers endpoint rate after an endpoint-rate 429 = %.2f, want lowered to about %.2f (then one success's recovery)", cus, 25*throttleFactor)
	}
	if inv != 25 {
		t.Errorf("invoices endpoint rate = %.2f, want 25: an endpoint-rate 429 slows its endpoint only", inv)
	}
	if g := float64(c.limiter.Limit()); g != 100 {
		t.Errorf("global rate = %.2f, want 100: an endpoint-rate 429 is not a global one", g)
	}
	// Successes restore the endpoint's rate, never above the configured one.
	for range 100 {
		if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.RateFor(http.MethodGet, "/v1/customers"); got != 25 {
		t.Errorf("customers endpoint rate after 100 successes = %.2f, want back at 25", got)
	}
}

func TestGlobalRate429SlowsEveryEndpoint(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			w.Header().Set("Stripe-Rate-Limited-Reason", "global-rate")
			reply(w, 429, `{"error":{"type":"invalid_request_error","code":"rate_limit"}}`)
			return
		}
		reply(w, 200, `{"data":[]}`)
	})
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 20, 1000, 100 })
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	if g := c.RateFor(http.MethodGet, "/v1/invoices"); g >= 20 {
		t.Errorf("invoices rate after a global-rate 429 on customers = %.2f, want below 20", g)
	}
	if ep := c.endpoints.get("GET /v1/customers").lim.Limit(); ep != 1000 {
		t.Errorf("customers endpoint limit = %v, want 1000 untouched", ep)
	}
}

func TestShareLimiterPacesRequestsOfItsContext(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate, cfg.Burst = -1, 1 })
	share := rate.NewLimiter(10, 1)
	ctx := WithShare(t.Context(), share)

	// Under the share: burst 1 at 10/s makes 3 requests take >= 200ms.
	start := time.Now()
	for range 3 {
		if _, err := c.Get(ctx, "/v1/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Errorf("3 requests under a 10/s share took %v, want >= 200ms", el)
	}
	// The share's tokens were taken: it now has none left (its next
	// reservation must wait about 100ms).
	if r := share.Reserve(); r.Delay() < 50*time.Millisecond {
		t.Errorf("share limiter delay after 3 requests = %v, want ~100ms (its tokens were not spent)", r.Delay())
	} else {
		r.Cancel()
	}

	// A context without the share does not touch it: 20 requests leave its
	// state as it was.
	share2 := rate.NewLimiter(1, 1)
	_ = WithShare(t.Context(), share2)
	for range 20 {
		if _, err := c.Get(t.Context(), "/v1/x", nil); err != nil {
			t.Fatal(err)
		}
	}
	if tok := share2.Tokens(); tok < 0.99 {
		t.Errorf("share limiter not carried by the context has %v tokens, want 1 (untouched)", tok)
	}
	if WithShare(t.Context(), nil) != t.Context() {
		t.Error("WithShare(ctx, nil) returned a new context, want ctx")
	}
}

func TestShareLimiterWithZeroBurstFailsClearly(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{}`) })
	c := newTestClient(t, srv.URL, func(cfg *Config) { cfg.Rate = -1 })
	_, err := c.Get(WithShare(t.Context(), rate.NewLimiter(1, 0)), "/v1/x", nil)
	if err == nil || !strings.Contains(err.Error(), "share limiter") {
		t.Fatalf("err = %v, want the share limiter named", err)
	}
	if srv.hits() != 0 {
		t.Errorf("%d requests sent, want 0", srv.hits())
	}
}

// TestLateWakerTakesAFreshSlot: a request whose pause for its slot ends
// well after the slot (the process was busy) does not go out then, with
// the requests of the slots after it: it takes a fresh slot. One that
// wakes on time goes.
func TestLateWakerTakesAFreshSlot(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", func(cfg *Config) { cfg.Rate, cfg.EndpointRate, cfg.Burst = 10, -1, 1 })
	var pauses []time.Duration
	oversleep := 100 * time.Millisecond
	c.pause = func(ctx context.Context, d time.Duration) error {
		pauses = append(pauses, d)
		if oversleep > 0 {
			// Meanwhile two other requests take the next slots, as
			// concurrent readers of a scan do.
			c.limiter.lim.ReserveN(time.Now(), 1)
			c.limiter.lim.ReserveN(time.Now(), 1)
		}
		time.Sleep(d + oversleep)
		oversleep = 0 // late once, then on time
		return nil
	}
	req := &request{method: http.MethodGet, path: "/v1/customers"}
	for range 2 {
		if err := c.wait(t.Context(), req); err != nil {
			t.Fatal(err)
		}
	}
	// The first request takes the burst; the second pauses for its slot,
	// wakes 100 ms late, and pauses again for a fresh slot, after those
	// the other requests took.
	if len(pauses) != 2 {
		t.Fatalf("%d pauses %v, want 2: a late waker takes a fresh slot", len(pauses), pauses)
	}
	if pauses[1] < 50*time.Millisecond {
		t.Errorf("second pause %v: the fresh slot should be a token interval (100 ms) after the missed one", pauses[1])
	}
}
